/*
 * A BpfMap wrapper that refuses operations the way the kernel can: the Nth operation, or each
 * one with probability p drawn from a seeded PRNG, failing with ENOSPC, E2BIG, EPERM or EBUSY,
 * thrown as the real map throws them (a BpfCallError naming the call and the map). A batch
 * update that is refused first writes a random part of its rows, as the kernel's does. One
 * Faults drives every map of a DatapathMaps, so "the Nth operation" counts across maps in the
 * order the writer makes them.
 */
import type { BpfMap, DatapathMaps, MapOps } from '../../../pkg/datapath/index.js';
import { BpfCallError } from '../../../pkg/datapath/index.js';
import type { MapDump } from '../../../pkg/datapath/map-dump.js';
import { seededRandom } from '../../bench/synthetic-cluster.js';

export const ERRNO = { EPERM: 1, E2BIG: 7, EBUSY: 16, ENOSPC: 28 } as const;

export interface FaultOptions {
  /** 1-based numbers of the operations to fail, counted from the last arm(). */
  readonly failAt?: readonly number[];
  /** Fail each operation with this probability. */
  readonly probability?: number;
  /** Which errnos a fault picks from (all four by default). */
  readonly errnos?: readonly number[];
}

export interface Operation {
  readonly n: number;
  readonly map: string;
  readonly call: string;
  /** 0 when the operation was let through. */
  readonly errno: number;
}

export class Faults {
  /** Every operation since the last arm(), failed or not. */
  readonly log: Operation[] = [];
  private options: FaultOptions = {};
  private readonly random: () => number;

  constructor(readonly seed: number) {
    this.random = seededRandom(seed);
  }

  /** Starts counting operations afresh, with these faults. */
  arm(options: FaultOptions): void {
    this.options = options;
    this.log.length = 0;
  }

  /** Lets everything through from now on. */
  disarm(): void {
    this.arm({});
  }

  get injected(): Operation[] {
    return this.log.filter((o) => o.errno !== 0);
  }

  /** A number in [0, n), from the same seeded sequence as the faults. */
  pick(n: number): number {
    return Math.floor(this.random() * n);
  }

  /** The errno the next operation fails with, or 0. */
  next(map: string, call: string): number {
    const n = this.log.length + 1;
    const { failAt = [], probability = 0, errnos = Object.values(ERRNO) } = this.options;
    const fails = failAt.includes(n) || (probability > 0 && this.random() < probability);
    const errno = fails ? errnos[this.pick(errnos.length)]! : 0;
    this.log.push({ n, map, call, errno });
    return errno;
  }
}

export class FaultyBpfMap implements BpfMap {
  constructor(
    private readonly inner: BpfMap,
    private readonly faults: Faults,
  ) {}

  get name(): string {
    return this.inner.name;
  }
  get keySize(): number {
    return this.inner.keySize;
  }
  get valueSize(): number {
    return this.inner.valueSize;
  }
  get capacity(): number {
    return this.inner.capacity;
  }
  get ops(): Readonly<MapOps> {
    return this.inner.ops;
  }

  update(key: Buffer, value: Buffer, flags?: number): void {
    this.gate('bpf_map_update_elem');
    this.inner.update(key, value, flags);
  }

  lookup(key: Buffer): Buffer | undefined {
    this.gate('bpf_map_lookup_elem');
    return this.inner.lookup(key);
  }

  delete(key: Buffer): boolean {
    this.gate('bpf_map_delete_elem');
    return this.inner.delete(key);
  }

  dump(entriesPerCall?: number): MapDump {
    this.gate('bpf_map_lookup_batch');
    return this.inner.dump(entriesPerCall);
  }

  updateBatch(keys: Buffer, values: Buffer, n: number): { written: number; errno: number } {
    const errno = this.faults.next(this.name, 'bpf_map_update_batch');
    if (errno === 0) return this.inner.updateBatch(keys, values, n);
    const partial = this.inner.updateBatch(keys, values, this.faults.pick(n + 1));
    return { written: partial.written, errno: partial.errno || errno };
  }

  private gate(call: string): void {
    const errno = this.faults.next(this.name, call);
    if (errno !== 0) throw new BpfCallError(call, errno, this.name);
  }
}

export function faultyMaps(maps: DatapathMaps, faults: Faults): DatapathMaps {
  const wrap = (map: BpfMap): BpfMap => new FaultyBpfMap(map, faults);
  return {
    services: wrap(maps.services),
    slots: wrap(maps.slots),
    backends: wrap(maps.backends),
    revNat: wrap(maps.revNat),
    counters: wrap(maps.counters),
    // Not wrapped: the writer only deletes their rows after a change committed, and a fault
    // there would shift every seeded fault sequence the suites were written against.
    rotation: maps.rotation,
    backendConns: maps.backendConns,
    outlier: maps.outlier,
    backendHealth: maps.backendHealth,
    svcEjections: maps.svcEjections,
    affinity: maps.affinity,
    claims: maps.claims,
  };
}
