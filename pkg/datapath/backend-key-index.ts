/* Backend ids by BackendKey: IPv4 keys in a NumberIndex, without a string or a heap number each. */
import type { BackendKey } from './identity.js';
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

  reserve(extra: number): void {
    this.ipv4.reserve(extra);
  }

  delete(key: BackendKey): void {
    if (typeof key === 'number') this.ipv4.delete(key);
    else this.ipv6.delete(key);
  }
}
