/*
 * A hash map from positive integer keys (below 2^53) to uint32 values, held in two typed
 * arrays: 12 bytes a slot, where a Map costs ~36 bytes an entry plus a 16-byte heap number for
 * each key above 2^31 (every IPv4 address:port key is). The writer keeps two of these over
 * 150,000 backends. Open addressing with linear probing; a delete shifts the entries after it
 * back, so there are no tombstones and lookups stay short under churn. Key 0 marks a free
 * slot and cannot be stored.
 */

const MAX_LOAD = 0.75;

export class NumberIndex {
  private keys: Float64Array;
  private values: Uint32Array;
  private mask: number;
  private count = 0;

  /**
   * `order` 'dense' is for keys handed out one after another (ids): they keep their order in
   * the table, so a run of new ones is written in one sweep rather than a cache miss each.
   * 'mixed' keys (address:port) are hashed first, or keys that differ only in the port would
   * pile up in one run.
   */
  constructor(
    capacity = 1024,
    private readonly order: 'dense' | 'mixed' = 'mixed',
  ) {
    let size = 16;
    while (size < capacity) size *= 2;
    this.keys = new Float64Array(size);
    this.values = new Uint32Array(size);
    this.mask = size - 1;
  }

  get size(): number {
    return this.count;
  }

  get(key: number): number | undefined {
    const slot = this.find(key);
    return slot < 0 ? undefined : this.values[slot];
  }

  has(key: number): boolean {
    return this.find(key) >= 0;
  }

  set(key: number, value: number): void {
    if (!(key > 0 && Number.isSafeInteger(key))) throw new RangeError(`NumberIndex key must be a positive integer, got ${key}`);
    if (this.count + 1 > this.keys.length * MAX_LOAD) this.grow();
    let slot = this.home(key);
    while (this.keys[slot] !== 0 && this.keys[slot] !== key) slot = (slot + 1) & this.mask;
    if (this.keys[slot] === 0) this.count++;
    this.keys[slot] = key;
    this.values[slot] = value;
  }

  delete(key: number): boolean {
    let hole = this.find(key);
    if (hole < 0) return false;
    // Backward-shift: pull later entries of the run into the hole when their home slot allows.
    for (let slot = (hole + 1) & this.mask; this.keys[slot] !== 0; slot = (slot + 1) & this.mask) {
      const home = this.home(this.keys[slot]!);
      const stays = hole <= slot ? home > hole && home <= slot : home > hole || home <= slot;
      if (stays) continue;
      this.keys[hole] = this.keys[slot]!;
      this.values[hole] = this.values[slot]!;
      hole = slot;
    }
    this.keys[hole] = 0;
    this.count--;
    return true;
  }

  /** Makes room for `extra` more keys at once: one rehash, instead of doubling step by step. */
  reserve(extra: number): void {
    let size = this.keys.length;
    while (this.count + extra > size * MAX_LOAD) size *= 2;
    if (size > this.keys.length) this.rehash(size);
  }

  forEach(visit: (value: number, key: number) => void): void {
    for (let slot = 0; slot < this.keys.length; slot++) if (this.keys[slot] !== 0) visit(this.values[slot]!, this.keys[slot]!);
  }

  private find(key: number): number {
    for (let slot = this.home(key); this.keys[slot] !== 0; slot = (slot + 1) & this.mask) {
      if (this.keys[slot] === key) return slot;
    }
    return -1;
  }

  private home(key: number): number {
    if (this.order === 'dense') return key & this.mask;
    // Both 32-bit halves, mixed (murmur3 finaliser), so keys that differ only in the port or
    // only in the address spread alike.
    let h = (key >>> 0) ^ Math.imul(Math.floor(key / 0x100000000) >>> 0, 0x9e3779b1);
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    return (h ^ (h >>> 16)) & this.mask;
  }

  private grow(): void {
    this.rehash(this.keys.length * 2);
  }

  private rehash(size: number): void {
    const { keys, values } = this;
    this.keys = new Float64Array(size);
    this.values = new Uint32Array(size);
    this.mask = this.keys.length - 1;
    this.count = 0;
    for (let slot = 0; slot < keys.length; slot++) if (keys[slot] !== 0) this.set(keys[slot]!, values[slot]!);
  }
}
