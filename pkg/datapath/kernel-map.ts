/*
 * One pinned BPF map, by fd, with raw-buffer operations. Codecs sit above it; errors leave it
 * typed with the map's name so a caller can tell which map refused.
 */
import { type BpfMap, type MapOps, UPDATE_ANY, zeroOps } from './bpf-map.js';
import { BpfCallError } from './errors.js';
import { libbpf } from './libbpf.js';
import { keyAt, type MapDump, packEntries, valueAt } from './map-dump.js';

const ENOENT = 2;
const EINVAL = 22;
const ENOSPC = 28;
const EOPNOTSUPP = 95;
/** The kernel's internal "not supported" for a map type without batch ops. */
const ENOTSUPP = 524;

/** Bytes one bpf_map_lookup_batch call may fill, keys and values together. */
const READ_CHUNK_BYTES = 1 << 20;

export class KernelBpfMap implements BpfMap {
  readonly ops: MapOps = zeroOps();
  /** Cleared the first time the kernel refuses a batched read: this map is walked key by key. */
  private batchReads = true;

  constructor(
    readonly name: string,
    readonly fd: number,
    readonly keySize: number,
    readonly valueSize: number,
    readonly capacity: number,
  ) {}

  update(key: Buffer, value: Buffer, flags = UPDATE_ANY): void {
    const rc = libbpf.mapUpdate(this.fd, key, value, flags) as number;
    if (rc < 0) throw new BpfCallError('bpf_map_update_elem', -rc, this.name);
    this.ops.writes++;
  }

  lookup(key: Buffer): Buffer | undefined {
    const value = Buffer.alloc(this.valueSize);
    this.ops.reads++;
    const rc = libbpf.mapLookup(this.fd, key, value) as number;
    if (rc === -ENOENT) return undefined;
    if (rc < 0) throw new BpfCallError('bpf_map_lookup_elem', -rc, this.name);
    return value;
  }

  delete(key: Buffer): boolean {
    const rc = libbpf.mapDelete(this.fd, key) as number;
    if (rc === -ENOENT) return false;
    if (rc < 0) throw new BpfCallError('bpf_map_delete_elem', -rc, this.name);
    this.ops.deletes++;
    return true;
  }

  /** Read in batches of thousands per syscall where the kernel supports it (hash maps do), else key by key. */
  dump(entriesPerCall?: number): MapDump {
    if (this.batchReads) {
      const dump = this.dumpBatched(entriesPerCall);
      if (dump) {
        this.ops.reads += dump.count;
        return dump;
      }
      this.batchReads = false;
    }
    return this.dumpByKey();
  }

  /** The per-key walk: one syscall for each key and one for each value. */
  dumpByKey(): MapDump {
    return packEntries(this.walkEntries(), this.keySize, this.valueSize);
  }

  /** Every key present, as views into one dump. */
  keys(): Buffer[] {
    const dump = this.dump();
    return Array.from({ length: dump.count }, (_, i) => keyAt(dump, i));
  }

  entries(): Array<[Buffer, Buffer]> {
    const dump = this.dump();
    return Array.from({ length: dump.count }, (_, i) => [keyAt(dump, i), valueAt(dump, i)]);
  }

  updateBatch(keys: Buffer, values: Buffer, n: number): { written: number; errno: number } {
    if (n === 0) return { written: 0, errno: 0 };
    const count = new Uint32Array([n]);
    const rc = libbpf.mapUpdateBatch(this.fd, keys, values, count, null) as number;
    const written = rc < 0 ? (count[0] ?? 0) : n;
    this.ops.writes += written;
    return { written, errno: rc < 0 ? -rc : 0 };
  }

  /**
   * bpf_map_lookup_batch from the start of the map to its end. The kernel hands back an opaque
   * cursor in out_batch that the next call passes as in_batch; it says ENOENT once the walk
   * is done, possibly with a last partial batch in the same call. Returns undefined when this
   * map type (or kernel) has no batched lookup.
   */
  private dumpBatched(entriesPerCall?: number): MapDump | undefined {
    const entrySize = this.keySize + this.valueSize;
    let perCall = entriesPerCall ?? Math.max(16, Math.min(this.capacity, Math.floor(READ_CHUNK_BYTES / entrySize)));
    // Hash maps use a 4-byte bucket index as the cursor, array maps a key: room for either.
    const cursorSize = Math.max(this.keySize, 8);
    let inBatch: Buffer | null = null;
    let outBatch: Buffer = Buffer.alloc(cursorSize);
    const keyChunks: Buffer[] = [];
    const valueChunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const keys = Buffer.allocUnsafe(perCall * this.keySize);
      const values = Buffer.allocUnsafe(perCall * this.valueSize);
      const count = new Uint32Array([perCall]);
      const rc = libbpf.mapLookupBatch(this.fd, inBatch, outBatch, keys, values, count, null) as number;
      const got = rc === 0 || rc === -ENOENT ? (count[0] ?? 0) : 0;
      if (got > 0) {
        keyChunks.push(keys.subarray(0, got * this.keySize));
        valueChunks.push(values.subarray(0, got * this.valueSize));
        total += got;
      }
      if (rc === -ENOENT) break;
      if (rc === -ENOSPC && got === 0) {
        // One hash bucket holds more entries than fit: retry the same bucket with more room.
        perCall *= 2;
        continue;
      }
      if (rc < 0) {
        const errno = -rc;
        if (inBatch === null && (errno === EINVAL || errno === ENOTSUPP || errno === EOPNOTSUPP)) return undefined;
        throw new BpfCallError('bpf_map_lookup_batch', errno, this.name);
      }
      inBatch ??= Buffer.alloc(cursorSize);
      [inBatch, outBatch] = [outBatch, inBatch];
    }
    // One copy into buffers of the exact size, so no half-empty chunk outlives the read.
    return {
      count: total,
      keySize: this.keySize,
      valueSize: this.valueSize,
      keys: Buffer.concat(keyChunks, total * this.keySize),
      values: Buffer.concat(valueChunks, total * this.valueSize),
    };
  }

  private walkEntries(): Array<[Buffer, Buffer]> {
    const out: Array<[Buffer, Buffer]> = [];
    let prev: Buffer | null = null;
    for (;;) {
      const next = Buffer.alloc(this.keySize);
      const rc = libbpf.mapNextKey(this.fd, prev, next) as number;
      if (rc === -ENOENT) return out;
      if (rc < 0) throw new BpfCallError('bpf_map_get_next_key', -rc, this.name);
      const value = this.lookup(next);
      if (value) out.push([next, value]);
      prev = next;
    }
  }
}
