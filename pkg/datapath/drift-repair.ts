/*
 * Applies a drift RepairPlan to the maps in the safe order (docs/architecture.md, "Write order"):
 * backends, then each service's slots, then its entry, so a connect never sees a half-repaired
 * service; deletions after every write, as service entries, slots, counters (with the service's
 * rotation), then backends (with their open-connection counts).
 * The writer's record is not changed: it is the truth the kernel is brought back to.
 */
import type { DatapathMaps } from './bpf-map.js';
import { backendId, counterKey } from './codecs.js';
import type { DriftReport, RepairPlan } from './drift.js';
import { writeEntry } from './map-write.js';
import { MAX_TIERS } from './types.js';

export function applyRepairs(maps: DatapathMaps, plan: RepairPlan): DriftReport {
  const report: DriftReport = {
    rewritten: { services: 0, slots: 0, backends: 0 },
    deleted: { services: 0, slots: 0, backends: 0, counters: 0 },
    drifted: plan.services.map((s) => s.service),
    strays: [],
    failed: [],
    holes: plan.holes,
  };
  const backendErrors = new Map<number, Error>();
  for (const b of plan.backends) {
    try {
      writeEntry(maps.backends, b.key, b.value, b.label);
      report.rewritten.backends++;
    } catch (error) {
      backendErrors.set(b.id, error as Error);
    }
  }
  const unrepaired = new Set<string>();
  for (const s of plan.services) {
    try {
      const lost = s.backends.find((id) => backendErrors.has(id));
      // Its slots would name a backend that is missing or wrong: leave the service as it is.
      if (lost !== undefined) throw backendErrors.get(lost)!;
      for (const slot of s.slots) {
        writeEntry(maps.slots, slot.key, backendId.encode(slot.backend), s.service);
        report.rewritten.slots++;
      }
      if (s.entry) {
        writeEntry(maps.services, s.entry.key, s.entry.value, s.service);
        report.rewritten.services++;
      }
    } catch (error) {
      unrepaired.add(s.service);
      report.failed.push({ service: s.service, error: error as Error });
    }
  }

  const dead = plan.deletions(unrepaired);
  for (const stray of dead.services) {
    if (maps.services.delete(stray.key)) report.deleted.services++;
    report.strays.push(stray.service);
  }
  for (const key of dead.slots) if (maps.slots.delete(key)) report.deleted.slots++;
  for (const svcId of dead.counters) {
    for (let tier = 0; tier < MAX_TIERS; tier++) {
      if (maps.counters.delete(counterKey.encode({ svcId, tier }))) report.deleted.counters++;
    }
    maps.rotation.delete(backendId.encode(svcId)); // a bare __u32 key, as a backend id is
    maps.outlier.delete(backendId.encode(svcId));
    maps.svcEjections.delete(backendId.encode(svcId));
  }
  for (const id of dead.backends) {
    if (maps.backends.delete(backendId.encode(id))) report.deleted.backends++;
    maps.backendConns.delete(backendId.encode(id));
    maps.backendHealth.delete(backendId.encode(id));
  }
  return report;
}
