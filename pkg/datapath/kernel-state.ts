/*
 * The services, slots and backends maps as read at one moment, indexed the way a connect walks
 * them: service entry -> per-tier counts -> slots below the counts -> backends. The one place
 * that rebuilds slots from raw dumps: read-back (a restarted writer), drift repair and
 * `nearbyctl maps` all go through it. Pure: dumps in, so every case is testable without a kernel.
 */
import type { BpfMap } from './bpf-map.js';
import { backendId, backendValue, slotKey, svcKey, svcValue, type SvcValue } from './codecs.js';
import { keyAt, type MapDump, valueAt } from './map-dump.js';
import { NumberIndex } from './number-index.js';
import { MAX_TIERS, type ProgrammedBackend, type ProgrammedService, type ServiceKey } from './types.js';

/** The services, slots and backends maps as read at one moment, raw. */
export interface KernelSnapshot {
  readonly services: MapDump;
  readonly slots: MapDump;
  readonly backends: MapDump;
}

export interface KernelEntry extends SvcValue {
  /** Its row in the services dump (keyOf() and valueOf() give views of its bytes). */
  readonly row: number;
}

export function readSnapshot(maps: { readonly services: BpfMap; readonly slots: BpfMap; readonly backends: BpfMap }): KernelSnapshot {
  return { backends: maps.backends.dump(), slots: maps.slots.dump(), services: maps.services.dump() };
}

export class KernelState {
  readonly entries: readonly KernelEntry[];
  /** Slot keys whose tier no service value can count up to: never reachable. */
  readonly outOfRangeSlots: readonly Buffer[];
  // A node may hold a few hundred thousand slots and backends: both are indexed by number in
  // typed arrays. NumberIndex cannot hold key 0, which a tampered map can, so keys are shifted
  // by 1. Here: slot number + 1 -> backend id, and backend id + 1 -> its row in the dump.
  private readonly slots: NumberIndex;
  /** Built when first asked: a restarted writer's read-back has its own index of backends. */
  private backendIndex: NumberIndex | undefined;
  private byKey: Map<string, KernelEntry> | undefined;

  constructor(readonly snapshot: KernelSnapshot) {
    const { services, slots } = snapshot;
    this.slots = new NumberIndex(slots.count * 2);
    const outOfRange: Buffer[] = [];
    for (let i = 0; i < slots.count; i++) {
      const at = i * slots.keySize;
      if (slotKey.tierAt(slots.keys, at) >= MAX_TIERS) outOfRange.push(keyAt(slots, i));
      else this.slots.set(slotKey.numberAt(slots.keys, at) + 1, backendId.decode(slots.values, i * slots.valueSize));
    }
    this.outOfRangeSlots = outOfRange;
    const entries: KernelEntry[] = [];
    for (let row = 0; row < services.count; row++) entries.push({ row, ...svcValue.decode(services.values, row * services.valueSize) });
    this.entries = entries;
  }

  /** A view of an entry's key bytes. */
  keyOf(entry: KernelEntry): Buffer {
    return keyAt(this.snapshot.services, entry.row);
  }

  /** A view of an entry's value bytes. */
  valueOf(entry: KernelEntry): Buffer {
    return valueAt(this.snapshot.services, entry.row);
  }

  serviceKey(entry: KernelEntry): ServiceKey {
    return svcKey.decode(this.snapshot.services.keys, entry.row * this.snapshot.services.keySize);
  }

  /** The entry whose key bytes are `key`. */
  entry(key: Buffer): KernelEntry | undefined {
    // Keyed by the key bytes as latin1 text: one char per byte, cheaper to build than hex.
    const { keys, keySize } = this.snapshot.services;
    this.byKey ??= new Map(this.entries.map((e) => [keys.toString('latin1', e.row * keySize, (e.row + 1) * keySize), e]));
    return this.byKey.get(key.toString('latin1'));
  }

  /** The backend id a slot names, if the slot exists. */
  slot(svcId: number, tier: number, index: number): number | undefined {
    return this.slots.get(slotKey.number(svcId, tier, index) + 1);
  }

  /** Every slot of a tier below MAX_TIERS, as read (a walk of a live map may see one twice). */
  forEachSlot(visit: (svcId: number, tier: number, index: number, backend: number) => void): void {
    const { slots } = this.snapshot;
    for (let i = 0; i < slots.count; i++) {
      const s = slotKey.decode(slots.keys, i * slots.keySize);
      if (s.tier < MAX_TIERS) visit(s.svcId, s.tier, s.index, backendId.decode(slots.values, i * slots.valueSize));
    }
  }

  hasBackend(id: number): boolean {
    return this.backendRows.has(id + 1);
  }

  /** A backend's row in the backends dump. */
  backendRow(id: number): number | undefined {
    return this.backendRows.get(id + 1);
  }

  forEachBackend(visit: (id: number, row: number) => void): void {
    this.backendRows.forEach((row, key) => visit(key - 1, row));
  }

  private get backendRows(): NumberIndex {
    if (!this.backendIndex) {
      const { backends } = this.snapshot;
      this.backendIndex = new NumberIndex(backends.count * 2);
      for (let i = 0; i < backends.count; i++) this.backendIndex.set(backendId.decode(backends.keys, i * backends.keySize) + 1, i);
    }
    return this.backendIndex;
  }

  /**
   * What a connect through `entry` can reach: per tier, the backend id of each slot below the
   * count, 0 where the slot is missing or names a backend that is not there (a hole).
   * `hasBackend` may answer from an index the caller already holds.
   */
  tiersOf(entry: KernelEntry, hasBackend?: (id: number) => boolean): { tiers: number[][]; holes: number } {
    let holes = 0;
    const tiers: number[][] = [];
    entry.counts.forEach((count, t) => {
      const tier = new Array<number>(count);
      for (let index = 0; index < count; index++) {
        const id = this.slot(entry.id, t, index) ?? 0;
        const present = id !== 0 && (hasBackend ? hasBackend(id) : this.hasBackend(id));
        if (!present) holes++;
        tier[index] = present ? id : 0;
      }
      tiers.push(tier);
    });
    return { tiers, holes };
  }

  /** Per service id, how far into each tier some published entry reaches: slots beyond are unreachable. */
  reach(): Map<number, number[]> {
    const reach = new Map<number, number[]>();
    for (const e of this.entries) extendReach(reach, e.id, e.counts);
    return reach;
  }
}

/**
 * Every published service as a connect can resolve it, holes left out and counted, ordered by
 * service id: what `nearbyctl maps` shows, and what tests check the writer's work against.
 */
export function resolveServices(kernel: KernelState): { services: ProgrammedService[]; holes: number } {
  const dump = kernel.snapshot.backends;
  const backendOf = (id: number): ProgrammedBackend => ({ id, ...backendValue.decode(valueAt(dump, kernel.backendRow(id)!)) });
  let holes = 0;
  const services = kernel.entries.map((entry): ProgrammedService => {
    const reached = kernel.tiersOf(entry);
    holes += reached.holes;
    const tiers = reached.tiers.map((tier) => tier.filter((id) => id !== 0).map(backendOf));
    return {
      key: kernel.serviceKey(entry),
      id: entry.id,
      mode: entry.mode,
      balance: entry.balance,
      weights: entry.weights,
      tiers,
      ...(entry.spillover ? { spillover: entry.spillover } : {}),
      ...(entry.affinitySeconds ? { affinitySeconds: entry.affinitySeconds } : {}),
    };
  });
  services.sort((a, b) => a.id - b.id);
  return { services, holes };
}

export function extendReach(reach: Map<number, number[]>, id: number, counts: readonly number[]): void {
  const r = reach.get(id) ?? new Array<number>(MAX_TIERS).fill(0);
  counts.forEach((c, t) => (r[t] = Math.max(r[t]!, c)));
  reach.set(id, r);
}
