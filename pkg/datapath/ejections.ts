/*
 * What sock_ops decided about failing backends (docs/outlier-detection.md), read for metrics and
 * `nearbyctl explain`. Times in the maps are CLOCK_MONOTONIC nanoseconds, the clock
 * process.hrtime reads, so remaining times are computed here without asking the kernel.
 */
import type { BpfMap } from './bpf-map.js';
import { type BackendHealth, backendHealth, backendId, svcEjections } from './codecs.js';
import { MAX_TIERS } from './types.js';

/** The kernel's clock (bpf_ktime_get_ns). */
export const monotonicNs = (): bigint => process.hrtime.bigint();

export interface EjectedBackend {
  readonly backendId: number;
  /** Milliseconds until connects reach it again. */
  readonly remainingMs: number;
  /** Ejection multiplier in force (1 for a first ejection). */
  readonly multiplier: number;
}

/** A backend's health row, if sock_ops ever wrote one. */
export function readBackendHealth(map: BpfMap, id: number): BackendHealth | undefined {
  const row = map.lookup(backendId.encode(id));
  return row && backendHealth.decode(row);
}

/** Backends ejected now, by backend id. */
export function readEjected(map: BpfMap, now = monotonicNs()): Map<number, EjectedBackend> {
  const out = new Map<number, EjectedBackend>();
  const rows = map.dump();
  for (let i = 0; i < rows.count; i++) {
    const h = backendHealth.decode(rows.values, i * rows.valueSize);
    if (h.ejectedUntilNs <= now) continue;
    const id = backendId.decode(rows.keys, i * rows.keySize);
    out.set(id, { backendId: id, remainingMs: Number((h.ejectedUntilNs - now) / 1_000_000n), multiplier: h.multiplier });
  }
  return out;
}

export interface ServiceEjections {
  /** Ejections ever made through the service. */
  readonly total: number;
  /** Its ejections in force (what maxEjectionPercent counts). */
  readonly active: number;
  /** Of those, how many each tier had when it ejected them (SPILLOVER subtracts these from ready). */
  readonly activeByTier: readonly number[];
}

/** Ejection totals by service id. */
export function readServiceEjections(map: BpfMap, now = monotonicNs()): Map<number, ServiceEjections> {
  const out = new Map<number, ServiceEjections>();
  const rows = map.dump();
  for (let i = 0; i < rows.count; i++) {
    const v = svcEjections.decode(rows.values, i * rows.valueSize);
    const live = v.slots.filter((s) => s.untilNs > now);
    const activeByTier = new Array<number>(MAX_TIERS).fill(0);
    for (const s of live) if (s.tier < MAX_TIERS) activeByTier[s.tier]!++;
    out.set(backendId.decode(rows.keys, i * rows.keySize), { total: v.ejections, active: live.length, activeByTier });
  }
  return out;
}
