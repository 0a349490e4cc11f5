/*
 * What the writer, read-back and drift repair need of one BPF map: raw-buffer operations with the
 * kernel's semantics and errors. The kernel implementation is kernel-map.ts; memory-map.ts keeps
 * the same contract in memory, so the writer can be tested, and benchmarked, without root.
 *
 * Each map counts the operations made through it, so a caller can say what one pass cost in
 * map reads, writes and deletes without counting them itself.
 */
import { STRUCTS } from './codecs.js';
import type { MapDump } from './map-dump.js';
import type { MapSizes } from './types.js';

// BPF_ANY / BPF_NOEXIST / BPF_EXIST from linux/bpf.h
export const UPDATE_ANY = 0;
export const UPDATE_NOEXIST = 1;
export const UPDATE_EXIST = 2;

/** Entries read, written and deleted through a map since it was opened. */
export interface MapOps {
  /** Lookups made (found or not), plus every entry a dump returned. */
  reads: number;
  /** Entries the map accepted, one by one or in a batch. */
  writes: number;
  /** Entries deleted (a delete of an absent key is not counted). */
  deletes: number;
}

export interface BpfMap {
  readonly name: string;
  readonly keySize: number;
  /** Size of the value buffer the kernel fills: for per-CPU maps, one 8-aligned copy per CPU. */
  readonly valueSize: number;
  /** max_entries: an insert past it is refused with E2BIG. */
  readonly capacity: number;
  readonly ops: Readonly<MapOps>;

  /** Throws BpfCallError: E2BIG when full, EEXIST/ENOENT when `flags` forbid the insert/replace. */
  update(key: Buffer, value: Buffer, flags?: number): void;
  lookup(key: Buffer): Buffer | undefined;
  /** Returns false when the key was already absent. */
  delete(key: Buffer): boolean;
  /**
   * Every entry, packed. Entries changed while reading may be missed or seen twice, as with any
   * walk of a live map; callers tolerate. `entriesPerCall` bounds one syscall's share.
   */
  dump(entriesPerCall?: number): MapDump;
  /**
   * Writes n packed keys/values, in order, stopping at the first refusal. Returns how many were
   * written together with the errno (0 when all were), so a caller can undo exactly those.
   */
  updateBatch(keys: Buffer, values: Buffer, n: number): { written: number; errno: number };
}

/** The maps the agent writes and reads, by role. */
export interface DatapathMaps {
  readonly services: BpfMap;
  readonly slots: BpfMap;
  readonly backends: BpfMap;
  readonly revNat: BpfMap;
  readonly counters: BpfMap;
  /** ROUND_ROBIN positions by service id, advanced by connect; the agent deletes a service's row. */
  readonly rotation: BpfMap;
  /** Open TCP connections by backend id, kept by sock_ops; the agent deletes a backend's row. */
  readonly backendConns: BpfMap;
  /** Passive-ejection settings by service id, written before the service entry; deleted with it. */
  readonly outlier: BpfMap;
  /** Consecutive failures and ejection by backend id, kept by sock_ops; deleted with the backend. */
  readonly backendHealth: BpfMap;
  /** Ejections in force by service id, kept by sock_ops; deleted with the service. */
  readonly svcEjections: BpfMap;
  /** Session affinity by (client netns, service id), kept by connect/sendmsg; the agent leaves it to timeout and LRU. */
  readonly affinity: BpfMap;
  /** Services nearby claims exclusively (never fail open), by service key; written before the service entry. */
  readonly claims: BpfMap;
}

/**
 * Each map the agent writes or reads, by role: its name in the BPF object and its key and value
 * sizes. perCpu values hold one copy per possible CPU. sizedBy is the MapSizes entry that gives
 * max_entries: a map with one row per service or per backend is as large as that map.
 */
export const MAP_LAYOUTS = {
  services: {
    name: 'services',
    keySize: STRUCTS.nearby_svc_key.size,
    valueSize: STRUCTS.nearby_svc_value.size,
    perCpu: false,
    sizedBy: 'services',
  },
  slots: { name: 'slots', keySize: STRUCTS.nearby_slot_key.size, valueSize: 4, perCpu: false, sizedBy: 'slots' },
  backends: { name: 'backends', keySize: 4, valueSize: STRUCTS.nearby_backend.size, perCpu: false, sizedBy: 'backends' },
  revNat: {
    name: 'rev_nat',
    keySize: STRUCTS.nearby_rev_key.size,
    valueSize: STRUCTS.nearby_rev_value.size,
    perCpu: false,
    sizedBy: 'revNat',
  },
  counters: {
    name: 'counters',
    keySize: STRUCTS.nearby_counter_key.size,
    valueSize: STRUCTS.nearby_counter_value.size,
    perCpu: true,
    sizedBy: 'counters',
  },
  rotation: { name: 'rotation', keySize: 4, valueSize: 4, perCpu: false, sizedBy: 'services' },
  backendConns: { name: 'backend_conns', keySize: 4, valueSize: 4, perCpu: false, sizedBy: 'backends' },
  outlier: { name: 'outlier', keySize: 4, valueSize: STRUCTS.nearby_outlier.size, perCpu: false, sizedBy: 'services' },
  backendHealth: { name: 'backend_health', keySize: 4, valueSize: STRUCTS.nearby_backend_health.size, perCpu: false, sizedBy: 'backends' },
  svcEjections: { name: 'svc_ejections', keySize: 4, valueSize: STRUCTS.nearby_svc_ejections.size, perCpu: false, sizedBy: 'services' },
  affinity: {
    name: 'affinity',
    keySize: STRUCTS.nearby_affinity_key.size,
    valueSize: STRUCTS.nearby_affinity.size,
    perCpu: false,
    sizedBy: 'revNat',
  },
  claims: { name: 'claims', keySize: STRUCTS.nearby_svc_key.size, valueSize: 1, perCpu: false, sizedBy: 'services' },
} as const satisfies Record<
  keyof DatapathMaps,
  { name: string; keySize: number; valueSize: number; perCpu: boolean; sizedBy: keyof MapSizes }
>;

export type MapRole = keyof DatapathMaps;

/** Every map, opened or made by `open`: the one list of roles, so no caller repeats it. */
export function mapsByRole<M extends BpfMap>(open: (role: MapRole) => M): Readonly<Record<MapRole, M>> {
  const roles = Object.keys(MAP_LAYOUTS) as MapRole[];
  return Object.fromEntries(roles.map((role) => [role, open(role)])) as Record<MapRole, M>;
}

export function zeroOps(): MapOps {
  return { reads: 0, writes: 0, deletes: 0 };
}

/** Operations per map name, copied, so a later snapshot can be subtracted from it. */
export function opsOf(maps: DatapathMaps): Record<string, MapOps> {
  const out: Record<string, MapOps> = {};
  for (const map of Object.values(maps) as BpfMap[]) out[map.name] = { ...map.ops };
  return out;
}

/** What happened between two opsOf() snapshots, for the maps that saw any operation. */
export function opsSince(before: Readonly<Record<string, MapOps>>, after: Readonly<Record<string, MapOps>>): Record<string, MapOps> {
  const out: Record<string, MapOps> = {};
  for (const [name, now] of Object.entries(after)) {
    const then = before[name] ?? zeroOps();
    const delta = { reads: now.reads - then.reads, writes: now.writes - then.writes, deletes: now.deletes - then.deletes };
    if (delta.reads + delta.writes + delta.deletes > 0) out[name] = delta;
  }
  return out;
}
