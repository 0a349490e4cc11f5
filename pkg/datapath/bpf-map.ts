/*
 * One pinned BPF map, by fd, with raw-buffer operations. Codecs sit above it; errors leave it
 * typed with the map's name so a caller can tell which map refused.
 */
import { BpfCallError } from './errors.js';
import { libbpf, UPDATE_ANY } from './libbpf.js';

const ENOENT = 2;

export class BpfMap {
  constructor(
    readonly name: string,
    readonly fd: number,
    readonly keySize: number,
    /** Size of the value buffer the kernel fills: for per-CPU maps, one 8-aligned copy per CPU. */
    readonly valueSize: number,
    readonly capacity: number,
  ) {}

  update(key: Buffer, value: Buffer, flags = UPDATE_ANY): void {
    const rc = libbpf.mapUpdate(this.fd, key, value, flags) as number;
    if (rc < 0) throw new BpfCallError('bpf_map_update_elem', -rc, this.name);
  }

  lookup(key: Buffer): Buffer | undefined {
    const value = Buffer.alloc(this.valueSize);
    const rc = libbpf.mapLookup(this.fd, key, value) as number;
    if (rc === -ENOENT) return undefined;
    if (rc < 0) throw new BpfCallError('bpf_map_lookup_elem', -rc, this.name);
    return value;
  }

  /** Returns false when the key was already absent. */
  delete(key: Buffer): boolean {
    const rc = libbpf.mapDelete(this.fd, key) as number;
    if (rc === -ENOENT) return false;
    if (rc < 0) throw new BpfCallError('bpf_map_delete_elem', -rc, this.name);
    return true;
  }

  /** Every key present. Keys deleted while iterating may restart the walk; callers tolerate. */
  keys(): Buffer[] {
    const out: Buffer[] = [];
    let prev: Buffer | null = null;
    for (;;) {
      const next = Buffer.alloc(this.keySize);
      const rc = libbpf.mapNextKey(this.fd, prev, next) as number;
      if (rc === -ENOENT) return out;
      if (rc < 0) throw new BpfCallError('bpf_map_get_next_key', -rc, this.name);
      out.push(next);
      prev = next;
    }
  }

  entries(): Array<[Buffer, Buffer]> {
    const out: Array<[Buffer, Buffer]> = [];
    for (const k of this.keys()) {
      const v = this.lookup(k);
      if (v) out.push([k, v]);
    }
    return out;
  }

  /**
   * Writes n packed keys/values in one syscall. Returns how many were written before a failure
   * together with the errno (0 when all were written), so a caller can undo exactly those.
   */
  updateBatch(keys: Buffer, values: Buffer, n: number): { written: number; errno: number } {
    if (n === 0) return { written: 0, errno: 0 };
    const count = new Uint32Array([n]);
    const rc = libbpf.mapUpdateBatch(this.fd, keys, values, count, null) as number;
    return { written: rc < 0 ? (count[0] ?? 0) : n, errno: rc < 0 ? -rc : 0 };
  }

  deleteBatch(keys: Buffer, n: number): void {
    if (n === 0) return;
    const count = new Uint32Array([n]);
    const rc = libbpf.mapDeleteBatch(this.fd, keys, count, null) as number;
    if (rc < 0 && rc !== -ENOENT) throw new BpfCallError('bpf_map_delete_batch', -rc, this.name);
    // ENOENT stops the batch early; finish the rest one by one, skipping missing keys.
    if (rc === -ENOENT) {
      for (let i = count[0] ?? 0; i < n; i++) this.delete(keys.subarray(i * this.keySize, (i + 1) * this.keySize));
    }
  }
}
