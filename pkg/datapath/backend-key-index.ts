/* Backend ids by BackendKey: IPv4 keys in a NumberIndex, without a string or a heap number each. */
import { type BackendKey, ipv4BackendKey } from './identity.js';
import { NumberIndex } from './number-index.js';

export class BackendKeyIndex {
  private readonly ipv4 = new NumberIndex();
  private readonly ipv6 = new Map<string, number>();

  get size(): number {
    return this.ipv4.size + this.ipv6.size;
  }

  get(key: BackendKey): number | undefined {
    return typeof key === 'number' ? this.ipv4.get(key) : this.ipv6.get(key);
  }

  set(key: BackendKey, id: number): void {
    if (typeof key === 'number') this.ipv4.set(key, id);
    else this.ipv6.set(key, id);
  }

  /**
   * get() of an IPv4 key given by its parts, the address as a signed 32-bit number (address | 0).
   * Both are small integers, which a call passes as they are; the key, a double above 2^31, was
   * made into a heap object at each call a bulk load made, twice per endpoint.
   */
  getIpv4(address: number, port: number): number | undefined {
    return this.ipv4.get(ipv4BackendKey(address >>> 0, port));
  }

  /** set() of an IPv4 key given by its parts, as getIpv4() takes them. */
  setIpv4(address: number, port: number, id: number): void {
    this.ipv4.set(ipv4BackendKey(address >>> 0, port), id);
  }

  reserve(extra: number): void {
    this.ipv4.reserve(extra);
  }

  delete(key: BackendKey): void {
    if (typeof key === 'number') this.ipv4.delete(key);
    else this.ipv6.delete(key);
  }
}
