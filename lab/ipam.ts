/*
 * Addresses: a /24 of kind's pod CIDR 10.244.0.0/16 per node (10.244.<node index>.0/24), and
 * Service VIPs from kind's service CIDR 10.96.0.0/16. 10.244.255.0/24 is kept for the lab itself
 * (the prober's address on the bridge), so at most 255 nodes.
 */
import { randomInt } from 'node:crypto';
import { LabError } from './errors.js';

export const POD_PREFIX_LENGTH = 16;
export const MAX_NODES = 255;
export const BRIDGE_ADDRESS = '10.244.255.254';

export function nodePodCidr(index: number): string {
  if (index < 0 || index >= MAX_NODES) throw new LabError('invalid', `the lab supports at most ${MAX_NODES} nodes`);
  return `10.244.${index}.0/24`;
}

/** Pod addresses of one node: .2 to .254, handed out round-robin so an address is not reused at once. */
export class NodeAddresses {
  private readonly used = new Set<number>();
  private next = 2;

  constructor(private readonly index: number) {}

  allocate(): string {
    for (let i = 0; i < 253; i++) {
      const host = this.next;
      this.next = this.next >= 254 ? 2 : this.next + 1;
      if (!this.used.has(host)) {
        this.used.add(host);
        return `10.244.${this.index}.${host}`;
      }
    }
    throw new LabError('system', `node ${this.index} has no free pod address left in 10.244.${this.index}.0/24`);
  }

  release(address: string): void {
    this.used.delete(Number(address.split('.')[3]));
  }
}

function toInt(address: string): number {
  return address.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

function fromInt(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

const SERVICE_BASE = toInt('10.96.0.0');
/** .0.1 is the kubernetes Service and .0.10 kube-dns in a kind cluster; keep them free. */
const RESERVED = new Set(['10.96.0.0', '10.96.0.1', '10.96.0.10', '10.96.255.255']);

export class ServiceAddresses {
  private readonly used = new Set<string>();

  /** A requested address is honoured if it is in the CIDR and free; otherwise a random free one. */
  allocate(requested?: string): string {
    if (requested !== undefined) {
      const n = toInt(requested);
      if (n >>> 16 !== SERVICE_BASE >>> 16) throw new LabError('invalid', `clusterIP ${requested} is not in the service CIDR 10.96.0.0/16`);
      if (this.used.has(requested) || RESERVED.has(requested)) throw new LabError('invalid', `clusterIP ${requested} is already allocated`);
      this.used.add(requested);
      return requested;
    }
    for (;;) {
      const candidate = fromInt(SERVICE_BASE + randomInt(11, 65535));
      if (!this.used.has(candidate) && !RESERVED.has(candidate)) {
        this.used.add(candidate);
        return candidate;
      }
    }
  }

  release(address: string): void {
    this.used.delete(address);
  }
}
