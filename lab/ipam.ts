/*
 * Addresses, from the cluster's pod and service subnets (kind's networking.podSubnet and
 * serviceSubnet; kind's defaults 10.244.0.0/16 and 10.96.0.0/16 when the config names none).
 * Pods: the lab uses the first /16 of the pod subnet, a /24 per node (<a>.<b>.<node index>.0/24),
 * on-link on one bridge; <a>.<b>.255.0/24 is kept for the lab itself (the prober's address on the
 * bridge), so at most 255 nodes. Service VIPs: anywhere in the service subnet but its first
 * address (the `kubernetes` Service), .10 (kube-dns in kind) and its last.
 */
import { randomInt } from 'node:crypto';
import { API_ADDRESS_RANGE } from './api-address.js';
import { LabError } from './errors.js';

/** The prefix length pods and the bridge have on-link: one /16 for the whole lab. */
export const POD_PREFIX_LENGTH = 16;
export const MAX_NODES = 255;

/** The apiserver refuses an IPv4 service range wider than /12; narrower than /24 leaves kind's .10 out. */
const SERVICE_PREFIX = { min: 12, max: 24 } as const;
/** Wider than /16 is fine (the lab takes its first /16); narrower leaves no room for a /24 per node. */
const POD_PREFIX = { min: 8, max: 16 } as const;

/** The cluster's two address ranges, as CIDR strings. */
export interface LabNetwork {
  readonly podSubnet: string;
  readonly serviceSubnet: string;
}

interface Cidr {
  readonly base: number;
  readonly length: number;
}

function toInt(address: string): number {
  return address.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

function fromInt(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

const size = (cidr: Cidr): number => 2 ** (32 - cidr.length);
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** An IPv4 network in address/length form, its host bits zero and its length within `bounds`; `field` names it in errors. */
function parseCidr(value: unknown, field: string, bounds: { min: number; max: number }): Cidr {
  const shown = JSON.stringify(value);
  if (typeof value !== 'string') throw new LabError('invalid', `${field} ${shown}: expected an IPv4 CIDR such as "10.10.0.0/16"`);
  const [address = '', lengthText = '', ...rest] = value.split('/');
  if (address.includes(':')) throw new LabError('invalid', `${field} ${shown}: the lab's network is IPv4 only`);
  const length = Number(lengthText);
  if (!IPV4.test(address) || rest.length > 0 || !/^\d{1,2}$/.test(lengthText) || length > 32) {
    throw new LabError('invalid', `${field} ${shown}: expected an IPv4 CIDR such as "10.10.0.0/16"`);
  }
  const base = toInt(address);
  if (base % 2 ** (32 - length) !== 0) {
    throw new LabError(
      'invalid',
      `${field} ${shown}: host bits are set; the network is ${fromInt(base - (base % 2 ** (32 - length)))}/${length}`,
    );
  }
  if (length < bounds.min || length > bounds.max) {
    throw new LabError('invalid', `${field} ${shown}: the lab supports prefix lengths /${bounds.min} to /${bounds.max}`);
  }
  return { base, length };
}

const overlaps = (a: Cidr, b: Cidr): boolean => a.base < b.base + size(b) && b.base < a.base + size(a);

/**
 * Checks both subnets, that they do not overlap, and that neither takes the range of the labs'
 * API server addresses (api-address.ts); `where` prefixes the field names in errors.
 */
export function checkNetwork(network: LabNetwork, where: string): void {
  const pods = parseCidr(network.podSubnet, `${where}.podSubnet`, POD_PREFIX);
  const services = parseCidr(network.serviceSubnet, `${where}.serviceSubnet`, SERVICE_PREFIX);
  if (overlaps(pods, services)) {
    throw new LabError('invalid', `${where}.podSubnet ${network.podSubnet} and serviceSubnet ${network.serviceSubnet} overlap`);
  }
  const api = parseCidr(API_ADDRESS_RANGE, 'API address range', { min: 0, max: 32 });
  for (const [field, cidr] of [['podSubnet', pods] as const, ['serviceSubnet', services] as const]) {
    if (overlaps(cidr, api))
      throw new LabError(
        'invalid',
        `${where}.${field} ${network[field]} overlaps ${API_ADDRESS_RANGE}, which the lab keeps for its API servers' addresses`,
      );
  }
}

/** The pod side of a lab's network: node CIDRs, the bridge's address, each node's pod addresses. */
export class PodNetwork {
  /** The first two octets of the /16 the lab uses, as "a.b". */
  private readonly prefix: string;
  readonly bridgeAddress: string;

  constructor(readonly subnet: string) {
    const cidr = parseCidr(subnet, 'podSubnet', POD_PREFIX);
    this.prefix = fromInt(cidr.base).split('.').slice(0, 2).join('.');
    this.bridgeAddress = `${this.prefix}.255.254`;
  }

  nodeCidr(index: number): string {
    if (index < 0 || index >= MAX_NODES) throw new LabError('invalid', `the lab supports at most ${MAX_NODES} nodes`);
    return `${this.prefix}.${index}.0/24`;
  }

  nodeAddresses(index: number): NodeAddresses {
    return new NodeAddresses(`${this.prefix}.${index}`);
  }
}

/** Pod addresses of one node: .2 to .254, handed out round-robin so an address is not reused at once. */
export class NodeAddresses {
  private readonly used = new Set<number>();
  private next = 2;

  /** `network` is the node's /24 without its last octet, "a.b.c". */
  constructor(private readonly network: string) {}

  allocate(): string {
    for (let i = 0; i < 253; i++) {
      const host = this.next;
      this.next = this.next >= 254 ? 2 : this.next + 1;
      if (!this.used.has(host)) {
        this.used.add(host);
        return `${this.network}.${host}`;
      }
    }
    throw new LabError('system', `no free pod address left in ${this.network}.0/24`);
  }

  release(address: string): void {
    this.used.delete(Number(address.split('.')[3]));
  }
}

/** Offsets kept free as a kind cluster has them: .1 is the `kubernetes` Service, .10 kube-dns. */
const RESERVED_OFFSETS = [0, 1, 10];

export class ServiceAddresses {
  private readonly used = new Set<string>();
  private readonly cidr: Cidr;
  private readonly reserved: ReadonlySet<string>;

  constructor(readonly subnet: string) {
    this.cidr = parseCidr(subnet, 'serviceSubnet', SERVICE_PREFIX);
    this.reserved = new Set([...RESERVED_OFFSETS, size(this.cidr) - 1].map((o) => fromInt(this.cidr.base + o)));
  }

  /** Why a requested address cannot be had (the problem only: callers name the object and field), or undefined. */
  problemWith(requested: string): string | undefined {
    const n = IPV4.test(requested) ? toInt(requested) : -1;
    if (n < this.cidr.base || n >= this.cidr.base + size(this.cidr)) return `${requested} is not in the service CIDR ${this.subnet}`;
    if (this.used.has(requested) || this.reserved.has(requested)) return `${requested} is already allocated`;
    return undefined;
  }

  /** A requested address is honoured if it is in the subnet and free; otherwise a random free one. */
  allocate(requested?: string): string {
    if (requested !== undefined) {
      const problem = this.problemWith(requested);
      if (problem) throw new LabError('invalid', `clusterIP ${problem}`);
      this.used.add(requested);
      return requested;
    }
    for (;;) {
      const candidate = fromInt(this.cidr.base + randomInt(RESERVED_OFFSETS.at(-1)! + 1, size(this.cidr) - 1));
      if (!this.used.has(candidate) && !this.reserved.has(candidate)) {
        this.used.add(candidate);
        return candidate;
      }
    }
  }

  release(address: string): void {
    this.used.delete(address);
  }
}

/** The /16 of a pod subnet the lab uses (its first), as a CIDR string. */
export function usedPodRange(podSubnet: string): string {
  const cidr = parseCidr(podSubnet, 'podSubnet', POD_PREFIX);
  return `${fromInt(cidr.base)}/${POD_PREFIX_LENGTH}`;
}

export interface MovedPodSubnet {
  readonly index: number;
  readonly from: string;
  readonly to: string;
}

/**
 * Several clusters on one flat lab network: each needs pod addresses no other cluster uses, or
 * a pod could not tell a remote pod from a local one. Two kind clusters both default to
 * 10.244.0.0/16, so a cluster whose pod range collides with an earlier cluster's pod range (or
 * with any cluster's Service range) gets the next free /16 after it; Service ranges may overlap,
 * since a VIP only means something to its own cluster's agents.
 */
export function distinctPodSubnets(networks: readonly LabNetwork[]): { networks: LabNetwork[]; moved: MovedPodSubnet[] } {
  const services = networks.map((n) => parseCidr(n.serviceSubnet, 'serviceSubnet', SERVICE_PREFIX));
  const taken: Cidr[] = [];
  const moved: MovedPodSubnet[] = [];
  const clashes = (c: Cidr): boolean => [...taken, ...services].some((t) => overlaps(t, c));
  const result = networks.map((network, index) => {
    const wanted = parseCidr(usedPodRange(network.podSubnet), 'podSubnet', POD_PREFIX);
    let candidate = wanted;
    for (let step = 0; clashes(candidate); step++) {
      const base = (wanted.base + (step + 1) * size(wanted)) % 2 ** 32;
      if (step >= 256) throw new LabError('invalid', `no free /16 for the pods of cluster ${index + 1} near ${network.podSubnet}`);
      candidate = { base, length: POD_PREFIX_LENGTH };
    }
    taken.push(candidate);
    if (candidate === wanted) return network;
    const to = `${fromInt(candidate.base)}/${POD_PREFIX_LENGTH}`;
    moved.push({ index, from: network.podSubnet, to });
    return { ...network, podSubnet: to };
  });
  return { networks: result, moved };
}
