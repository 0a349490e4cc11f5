/*
 * Services share a backend by address:port. An IPv4 address:port is one number, address *
 * 65536 + port, below 2^48 and so exact in a double; it is indexed in a NumberIndex, without
 * a string or a heap number per backend. IPv6 keys are the canonical text and port.
 */
import type { ParsedAddress } from './addr.js';
import { NumberIndex } from './number-index.js';

export type BackendKey = number | string;

export function backendKey(address: Pick<ParsedAddress, 'family' | 'bytes' | 'canonical'>, port: number): BackendKey {
  if (address.family === 6) return `${address.canonical}#${port}`;
  const b = address.bytes;
  return (((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0) * 65536 + port;
}

/** Backend ids by key. */
export class BackendKeyIndex {
  private readonly ipv4 = new NumberIndex();
  private readonly ipv6 = new Map<string, number>();

  get(key: BackendKey): number | undefined {
    return typeof key === 'number' ? this.ipv4.get(key) : this.ipv6.get(key);
  }

  set(key: BackendKey, id: number): void {
    if (typeof key === 'number') this.ipv4.set(key, id);
    else this.ipv6.set(key, id);
  }

  reserve(extra: number): void {
    this.ipv4.reserve(extra);
  }

  delete(key: BackendKey): void {
    if (typeof key === 'number') this.ipv4.delete(key);
    else this.ipv6.delete(key);
  }
}
