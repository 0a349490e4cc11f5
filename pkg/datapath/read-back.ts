/*
 * A restarted writer's first step: rebuild the mirror from the pinned maps and collect what an
 * interrupted run left (slots no published entry can reach, backends no slot names, counters of
 * services that are gone). Each map is read whole in batched syscalls, then matched in memory.
 */
import type { BackendTable } from './backend-table.js';
import { backendId, counterKey, slotKey, svcKey, svcValue } from './codecs.js';
import type { DatapathMaps } from './loader.js';
import { keyAt } from './map-dump.js';
import { type MirrorService, mirrorKeyOf, weightsOf } from './mirror-service.js';
import { NumberIndex } from './number-index.js';
import { packTiers } from './packed-tiers.js';
import { MAX_TIERS } from './types.js';

export interface ReadBackReport {
  services: number;
  backends: number;
  /** Slots or backends a live count pointed at but that were missing (repaired on next apply). */
  holes: number;
  /** Stray entries from an interrupted writer, deleted. */
  collected: number;
}

export interface ReadBack {
  readonly report: ReadBackReport;
  readonly services: Map<string, MirrorService>;
  /** Highest ids found, so new ones start above them. */
  readonly maxServiceId: number;
  readonly maxBackendId: number;
}

/** Fills `backends` and returns the services; deletes strays from the maps. */
export function readBack(maps: DatapathMaps, backends: BackendTable): ReadBack {
  const report: ReadBackReport = { services: 0, backends: 0, holes: 0, collected: 0 };
  let maxBackendId = 0;
  const backendDump = maps.backends.dump();
  backends.reserve(backendDump.count);
  for (let i = 0; i < backendDump.count; i++) {
    const id = backendId.decode(backendDump.keys, i * backendDump.keySize);
    backends.addFromKernel(id, backendDump.values, i * backendDump.valueSize);
    maxBackendId = Math.max(maxBackendId, id);
  }

  const slotDump = maps.slots.dump();
  // slot number + 1 (NumberIndex cannot hold 0, a tampered map can) -> backend id
  const slots = new NumberIndex(slotDump.count * 2);
  for (let i = 0; i < slotDump.count; i++) {
    const s = slotKey.decode(slotDump.keys, i * slotDump.keySize);
    if (s.tier < MAX_TIERS) slots.set(slotKey.number(s.svcId, s.tier, s.index) + 1, backendId.decode(slotDump.values, i * slotDump.valueSize));
  }

  const services = new Map<string, MirrorService>();
  // Per service id, how far into each tier a published entry reaches: slots beyond are strays.
  const reach = new Map<number, number[]>();
  let maxServiceId = 0;
  const serviceDump = maps.services.dump();
  for (let i = 0; i < serviceDump.count; i++) {
    const key = svcKey.decode(serviceDump.keys, i * serviceDump.keySize);
    const value = svcValue.decode(serviceDump.values, i * serviceDump.valueSize);
    const r = reach.get(value.id) ?? new Array<number>(MAX_TIERS).fill(0);
    reach.set(value.id, r);
    const tiers = value.counts.map((count, t) => {
      r[t] = Math.max(r[t]!, count);
      return Array.from({ length: count }, (_, index) => {
        const id = slots.get(slotKey.number(value.id, t, index) + 1) ?? 0;
        if (!backends.has(id)) {
          report.holes++;
          return 0;
        }
        return id;
      });
    });
    const entry: MirrorService = { key, id: value.id, mode: value.mode, weights: weightsOf(value.weights), tiers: packTiers(tiers) };
    services.set(mirrorKeyOf(key), entry);
    for (const tier of tiers) for (const id of tier) backends.retain(id);
    maxServiceId = Math.max(maxServiceId, value.id);
  }

  for (let i = 0; i < slotDump.count; i++) {
    const s = slotKey.decode(slotDump.keys, i * slotDump.keySize);
    const live = s.tier < MAX_TIERS && s.index < (reach.get(s.svcId)?.[s.tier] ?? 0);
    if (!live && maps.slots.delete(keyAt(slotDump, i))) report.collected++;
  }
  for (const id of backends.ids()) {
    if (backends.refs(id) > 0) continue;
    maps.backends.delete(backendId.encode(id));
    backends.remove(id);
    report.collected++;
  }
  const liveIds = new Set([...services.values()].map((s) => s.id));
  const counterDump = maps.counters.dump();
  for (let i = 0; i < counterDump.count; i++) {
    if (!liveIds.has(counterKey.decode(counterDump.keys, i * counterDump.keySize).svcId)) maps.counters.delete(keyAt(counterDump, i));
  }
  report.services = services.size;
  report.backends = backends.size;
  return { report, services, maxServiceId, maxBackendId };
}
