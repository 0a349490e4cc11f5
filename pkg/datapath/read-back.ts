/*
 * A restarted writer's first step: rebuild the mirror from the pinned maps, and find what an
 * interrupted run left (slots no published entry can reach, backends no slot names, counters of
 * services that are gone). Reading is pure; deleting the leftovers is collectLeftovers(), a step
 * of its own that ServiceWriter.open() takes explicitly.
 */
import type { BackendTable } from './backend-table.js';
import type { DatapathMaps } from './bpf-map.js';
import { backendId, counterKey, slotKey } from './codecs.js';
import { serviceKeyText } from './identity.js';
import type { KernelState } from './kernel-state.js';
import { keyAt } from './map-dump.js';
import { type MirrorService, weightsOf } from './mirror-service.js';
import { packTiers } from './packed-tiers.js';
import type { ServiceMirror } from './service-mirror.js';

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
  /** Highest ids found, so new ones start above them. */
  readonly maxServiceId: number;
  readonly maxBackendId: number;
  /** What an interrupted writer left, for collectLeftovers(). */
  readonly leftovers: { readonly slots: readonly Buffer[]; readonly backends: readonly number[] };
}

/** Fills `mirror` with the services and `backends` with the backends some slot names. */
export function readBack(kernel: KernelState, mirror: ServiceMirror, backends: BackendTable): ReadBack {
  const report: ReadBackReport = { services: 0, backends: 0, holes: 0, collected: 0 };
  let maxBackendId = 0;
  const backendDump = kernel.snapshot.backends;
  backends.reserve(backendDump.count);
  for (let i = 0; i < backendDump.count; i++) {
    const id = backendId.decode(backendDump.keys, i * backendDump.keySize);
    backends.addFromKernel(id, backendDump.values, i * backendDump.valueSize);
    maxBackendId = Math.max(maxBackendId, id);
  }

  let maxServiceId = 0;
  for (const entry of kernel.entries) {
    const key = kernel.serviceKey(entry);
    const { tiers, holes } = kernel.tiersOf(entry, (id) => backends.has(id));
    report.holes += holes;
    const mirrored: MirrorService = {
      key,
      label: '',
      id: entry.id,
      mode: entry.mode,
      balance: entry.balance,
      weights: weightsOf(entry.weights),
      ...(entry.spillover ? { spillover: entry.spillover } : {}),
      tiers: packTiers(tiers),
      ...(entry.affinitySeconds ? { affinitySeconds: entry.affinitySeconds } : {}),
    };
    mirror.set(serviceKeyText(key), mirrored);
    for (const tier of tiers) for (const id of tier) backends.retain(id);
    maxServiceId = Math.max(maxServiceId, entry.id);
  }

  const reach = kernel.reach();
  const slots: Buffer[] = [...kernel.outOfRangeSlots];
  kernel.forEachSlot((svcId, tier, index) => {
    if (index >= (reach.get(svcId)?.[tier] ?? 0)) slots.push(slotKey.encode({ svcId, tier, index }));
  });
  const orphans = backends.ids().filter((id) => backends.refs(id) === 0);
  for (const id of orphans) backends.remove(id);
  report.services = mirror.size;
  report.backends = backends.size;
  return { report, maxServiceId, maxBackendId, leftovers: { slots, backends: orphans } };
}

/**
 * Deletes what readBack() found left over, the counters and rotations of services `mirror` does
 * not hold, and the open-connection counts of backends `backends` does not hold (a close that
 * came after its backend was deleted leaves such a row).
 */
export function collectLeftovers(maps: DatapathMaps, read: ReadBack, mirror: ServiceMirror, backends: BackendTable): void {
  for (const key of read.leftovers.slots) if (maps.slots.delete(key)) read.report.collected++;
  for (const id of read.leftovers.backends) {
    maps.backends.delete(backendId.encode(id));
    read.report.collected++;
  }
  const liveIds = new Set([...mirror.values()].map((s) => s.id));
  const counterDump = maps.counters.dump();
  for (let i = 0; i < counterDump.count; i++) {
    if (!liveIds.has(counterKey.decode(counterDump.keys, i * counterDump.keySize).svcId)) maps.counters.delete(keyAt(counterDump, i));
  }
  const rotations = maps.rotation.dump();
  for (let i = 0; i < rotations.count; i++) {
    if (!liveIds.has(backendId.decode(rotations.keys, i * rotations.keySize))) maps.rotation.delete(keyAt(rotations, i));
  }
  for (const map of [maps.outlier, maps.svcEjections]) {
    const rows = map.dump();
    for (let i = 0; i < rows.count; i++) if (!liveIds.has(backendId.decode(rows.keys, i * rows.keySize))) map.delete(keyAt(rows, i));
  }
  const health = maps.backendHealth.dump();
  for (let i = 0; i < health.count; i++) {
    if (!backends.has(backendId.decode(health.keys, i * health.keySize))) maps.backendHealth.delete(keyAt(health, i));
  }
  const conns = maps.backendConns.dump();
  for (let i = 0; i < conns.count; i++) {
    if (!backends.has(backendId.decode(conns.keys, i * conns.keySize))) maps.backendConns.delete(keyAt(conns, i));
  }
}
