/*
 * A BPF hash map held in memory, with the kernel's semantics for what the writer relies on:
 * BPF_NOEXIST/BPF_EXIST, E2BIG on an insert past max_entries (BPF_F_NO_PREALLOC hash maps say
 * E2BIG, not ENOSPC), a batch update that stops at the first refusal and says how far it got,
 * and values copied in and out, never shared. Errors are the BpfCallErrors the kernel map
 * throws. Unit tests and the benchmarks run the real writer on it without root.
 */
import {
  type BpfMap,
  type DatapathMaps,
  MAP_LAYOUTS,
  mapsByRole,
  type MapOps,
  type MapRole,
  UPDATE_ANY,
  UPDATE_EXIST,
  UPDATE_NOEXIST,
  zeroOps,
} from './bpf-map.js';
import { BpfCallError } from './errors.js';
import { type MapDump, packEntries } from './map-dump.js';
import { DEFAULT_MAP_SIZES, type MapSizes } from './types.js';

const ENOENT = 2;
const E2BIG = 7;
const EEXIST = 17;
const EINVAL = 22;

export class MemoryBpfMap implements BpfMap {
  readonly ops: MapOps = zeroOps();
  /** Key bytes as latin1 text (one char per byte) -> [key, value], in insertion order. */
  private readonly entries = new Map<string, readonly [Buffer, Buffer]>();

  constructor(
    readonly name: string,
    readonly keySize: number,
    readonly valueSize: number,
    readonly capacity: number,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  update(key: Buffer, value: Buffer, flags = UPDATE_ANY): void {
    const call = 'bpf_map_update_elem';
    const text = this.keyText(key, call);
    if (value.length < this.valueSize || flags < UPDATE_ANY || flags > UPDATE_EXIST) this.fail(call, EINVAL);
    const exists = this.entries.has(text);
    if (flags === UPDATE_NOEXIST && exists) this.fail(call, EEXIST);
    if (flags === UPDATE_EXIST && !exists) this.fail(call, ENOENT);
    if (!exists && this.entries.size >= this.capacity) this.fail(call, E2BIG);
    this.entries.set(text, [Buffer.from(key.subarray(0, this.keySize)), Buffer.from(value.subarray(0, this.valueSize))]);
    this.ops.writes++;
  }

  lookup(key: Buffer): Buffer | undefined {
    this.ops.reads++;
    const entry = this.entries.get(this.keyText(key, 'bpf_map_lookup_elem'));
    return entry && Buffer.from(entry[1]);
  }

  delete(key: Buffer): boolean {
    const gone = this.entries.delete(this.keyText(key, 'bpf_map_delete_elem'));
    if (gone) this.ops.deletes++;
    return gone;
  }

  dump(): MapDump {
    const dump = packEntries([...this.entries.values()], this.keySize, this.valueSize);
    this.ops.reads += dump.count;
    return dump;
  }

  updateBatch(keys: Buffer, values: Buffer, n: number): { written: number; errno: number } {
    for (let i = 0; i < n; i++) {
      try {
        this.update(keys.subarray(i * this.keySize, (i + 1) * this.keySize), values.subarray(i * this.valueSize, (i + 1) * this.valueSize));
      } catch (error) {
        if (error instanceof BpfCallError && error.errno !== undefined) return { written: i, errno: error.errno };
        throw error;
      }
    }
    return { written: n, errno: 0 };
  }

  private keyText(key: Buffer, call: string): string {
    if (key.length < this.keySize) this.fail(call, EINVAL);
    return key.toString('latin1', 0, this.keySize);
  }

  private fail(call: string, errno: number): never {
    throw new BpfCallError(call, errno, this.name);
  }
}

/**
 * The agent's maps in memory, shaped as the loader shapes the kernel's. `cpus` sizes the
 * per-CPU counter values as libbpf_num_possible_cpus() would.
 */
export function memoryMaps(sizes: Partial<MapSizes> = {}, cpus = 1): DatapathMaps {
  const s: MapSizes = { ...DEFAULT_MAP_SIZES, ...sizes };
  const map = (role: MapRole): MemoryBpfMap => {
    const l = MAP_LAYOUTS[role];
    return new MemoryBpfMap(l.name, l.keySize, l.perCpu ? l.valueSize * cpus : l.valueSize, s[l.sizedBy]);
  };
  return mapsByRole(map);
}
