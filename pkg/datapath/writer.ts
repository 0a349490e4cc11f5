/*
 * Applies a service's desired state to the maps in an order that a racing connect can never
 * observe half-done (DESIGN.md consistency rules):
 *   1. backends  (new ones, invisible until a slot names them)
 *   2. slots     (past the live count: invisible; below it: replaced by another live backend)
 *   3. service   (one atomic value replace publishes every tier's new count at once)
 *   4. trailing slots, then backends no slot names any more.
 * Anything failing before step 3 is undone, so the service stays exactly as it was. The
 * in-memory mirror changes only after the kernel accepted the writes.
 */
import { parseAddress, type ParsedAddress } from './addr.js';
import { backendKey } from './backend-key.js';
import { BackendTable } from './backend-table.js';
import type { BpfMap } from './bpf-map.js';
import { planBulk } from './bulk-plan.js';
import { backendId, backendValue, counterKey, slotKey, svcKey, svcValue } from './codecs.js';
import { type DriftReport, planRepairs } from './drift.js';
import { BpfCallError, MapFullError } from './errors.js';
import type { DatapathMaps } from './loader.js';
import { UPDATE_NOEXIST } from './libbpf.js';
import { keyAt, type MapDump } from './map-dump.js';
import { type MirrorService, mirrorKeyOf, toProgrammed, weightsOf } from './mirror-service.js';
import { forEachId, packTiers, type PackedTiers, tierCounts, tierEnd, tierIds, tierStart, unpackTiers } from './packed-tiers.js';
import { readBack, type ReadBackReport } from './read-back.js';
import { layoutTier } from './tier-layout.js';
import { type BackendSpec, MAX_TIERS, type ProgrammedService, type ServiceKey, type ServiceSpec, serviceKeyString } from './types.js';
import { validateSpec } from './validate.js';

/** matches() encodes each backend here to compare it with the programmed bytes. */
const MATCH_SCRATCH = Buffer.alloc(backendValue.size);

export type { ReadBackReport } from './read-back.js';

const E2BIG = 7;

export interface BulkResult {
  applied: ProgrammedService[];
  failed: Array<{ spec: ServiceSpec; error: Error }>;
}

export class ServiceWriter {
  private readonly services: Map<string, MirrorService>;
  private readonly backends = new BackendTable();
  // Ids only grow (wrapping at 2^32) so a connect that read an old id just before a delete can
  // never find that id reused for another address.
  private nextServiceId: number;
  private nextBackendId: number;
  readonly readBack: ReadBackReport;

  constructor(private readonly maps: DatapathMaps) {
    const read = readBack(maps, this.backends);
    this.services = read.services;
    this.readBack = read.report;
    this.nextServiceId = nextId(read.maxServiceId);
    this.nextBackendId = nextId(read.maxBackendId);
  }

  /** What the maps hold now, as this writer knows it. */
  programmed(): ProgrammedService[] {
    return [...this.services.values()].map((s) => toProgrammed(s, this.backends));
  }

  get(key: ServiceKey): ProgrammedService | undefined {
    const s = this.services.get(mirrorKeyOf(key));
    return s && toProgrammed(s, this.backends);
  }

  /**
   * Whether the service is programmed exactly as `spec` says: mode, weights, and per tier the
   * same backends with the same node and flags, in any slot order. Unlike get(), it builds no
   * objects; the reconciler asks it for every Service it re-plans.
   */
  matches(spec: ServiceSpec): boolean {
    let vip: ParsedAddress;
    try {
      vip = parseAddress(spec.key.address);
    } catch {
      return false;
    }
    const s = this.services.get(mirrorKeyOf(spec.key, vip.canonical));
    if (!s || s.mode !== spec.mode) return false;
    const weights = weightsOf(spec.weights);
    for (let t = 0; t < MAX_TIERS; t++) if (weights[t] !== s.weights[t]) return false;
    for (let t = 0; t < MAX_TIERS; t++) {
      const want = spec.tiers[t] ?? [];
      const start = tierStart(s.tiers, t);
      const end = tierEnd(s.tiers, t);
      if (end - start !== want.length) return false;
      for (const b of want) {
        let address: ParsedAddress;
        try {
          address = parseAddress(b.address);
        } catch {
          return false;
        }
        const id = this.backends.idOf(backendKey(address, b.port));
        if (id === undefined) return false;
        let inTier = false;
        for (let i = start; i < end && !inTier; i++) inTier = s.tiers[i] === id;
        if (!inTier) return false;
        backendValue.write(MATCH_SCRATCH, 0, address, b.port, b.nodeId, b.terminating);
        if (!this.backends.sameValue(id, MATCH_SCRATCH)) return false;
      }
    }
    return true;
  }

  serviceId(key: ServiceKey): number | undefined {
    return this.services.get(mirrorKeyOf(key))?.id;
  }

  apply(spec: ServiceSpec): ProgrammedService {
    const label = `${spec.label} ${serviceKeyString(spec.key)}`;
    const valid = validateSpec(spec, label);
    const ks = mirrorKeyOf(spec.key, valid.vip.canonical);
    const old = this.services.get(ks);
    const undo: Array<() => void> = [];
    const id = old?.id ?? this.nextServiceId;
    const weights = weightsOf(spec.weights);
    let tiers: number[][];
    const trailing: Array<[tier: number, index: number]> = [];
    try {
      let a = 0;
      const ids = spec.tiers.map((tier) => tier.map((b) => this.ensureBackend(b, valid.backends[a++]!, undo, label)));
      tiers = [];
      for (let t = 0; t < MAX_TIERS; t++) {
        const before = old ? tierIds(old.tiers, t) : [];
        const layout = layoutTier(before, ids[t] ?? []);
        for (const [index, backend] of layout.writes) {
          const key = slotKey.encode({ svcId: id, tier: t, index });
          const previous = before[index];
          this.write(this.maps.slots, key, backendId.encode(backend), label);
          undo.push(() =>
            previous ? this.maps.slots.update(key, backendId.encode(previous)) : this.maps.slots.delete(key),
          );
        }
        for (const index of layout.deletes) trailing.push([t, index]);
        tiers.push([...layout.next]);
      }
      const value = svcValue.encode({ id, mode: spec.mode, counts: tiers.map((t) => t.length), weights });
      this.write(this.maps.services, svcKey.encode(spec.key), value, label);
    } catch (err) {
      for (const step of undo.reverse()) {
        try {
          step();
        } catch {
          // Best effort: what cannot be undone is invisible (past the live count) and is
          // collected on the next read-back.
        }
      }
      throw err;
    }

    // Committed: connects now use the new counts. Clean up behind them.
    if (!old) this.nextServiceId = nextId(id);
    for (const [tier, index] of trailing) this.maps.slots.delete(slotKey.encode({ svcId: id, tier, index }));
    const entry: MirrorService = { key: spec.key, id, mode: spec.mode, weights, tiers: packTiers(tiers) };
    this.services.set(ks, entry);
    this.retain(entry.tiers);
    if (old) this.release(old.tiers);
    return toProgrammed(entry, this.backends);
  }

  /** Removes a service: unpublish first, then its slots, then backends nobody names. */
  remove(key: ServiceKey): boolean {
    const ks = mirrorKeyOf(key);
    const old = this.services.get(ks);
    if (!old) return false;
    this.maps.services.delete(svcKey.encode(key));
    this.services.delete(ks);
    tierCounts(old.tiers).forEach((count, t) => {
      for (let index = 0; index < count; index++) this.maps.slots.delete(slotKey.encode({ svcId: old.id, tier: t, index }));
    });
    this.release(old.tiers);
    for (let t = 0; t < MAX_TIERS; t++) this.maps.counters.delete(counterKey.encode({ svcId: old.id, tier: t }));
    return true;
  }

  /**
   * Re-reads the services, slots and backends maps and repairs whatever differs from what this
   * writer programmed (drift.ts decides what). Writes go backends, slots, then the service entry,
   * so a connect never sees a half-repaired service; deletions go service entries, slots,
   * counters, then backends. A service that matches is not written at all. The mirror is not
   * changed: it is the truth the kernel is brought back to.
   */
  repairDrift(): DriftReport {
    const plan = planRepairs(
      {
        services: [...this.services.values()].map((s) => ({ ...s, tiers: unpackTiers(s.tiers) })),
        backendValue: (id) => this.backends.value(id),
      },
      { services: this.maps.services.dump(), slots: this.maps.slots.dump(), backends: this.maps.backends.dump() },
    );
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
        this.write(this.maps.backends, b.key, b.value, b.label);
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
          this.write(this.maps.slots, slot.key, backendId.encode(slot.backend), s.service);
          report.rewritten.slots++;
        }
        if (s.entry) {
          this.write(this.maps.services, s.entry.key, s.entry.value, s.service);
          report.rewritten.services++;
        }
      } catch (error) {
        unrepaired.add(s.service);
        report.failed.push({ service: s.service, error: error as Error });
      }
    }

    const dead = plan.deletions(unrepaired);
    for (const stray of dead.services) {
      if (this.maps.services.delete(stray.key)) report.deleted.services++;
      report.strays.push(stray.service);
    }
    for (const key of dead.slots) if (this.maps.slots.delete(key)) report.deleted.slots++;
    for (const svcId of dead.counters) {
      for (let tier = 0; tier < MAX_TIERS; tier++) {
        if (this.maps.counters.delete(counterKey.encode({ svcId, tier }))) report.deleted.counters++;
      }
    }
    for (const id of dead.backends) if (this.maps.backends.delete(backendId.encode(id))) report.deleted.backends++;
    return report;
  }

  /**
   * Bulk load, as on a first start with thousands of services: new services go through three
   * batch writes (backends, slots, services) in the same safe order. If a batch is refused, what
   * it wrote is undone and each service is applied alone, so the failure names its service and
   * leaves the others programmed. Services that already exist are updated one by one.
   */
  applyMany(specs: readonly ServiceSpec[]): BulkResult {
    const result: BulkResult = { applied: [], failed: [] };
    const fresh: ServiceSpec[] = [];
    const freshKeys: string[] = [];
    for (const spec of specs) {
      const ks = mirrorKeyOf(spec.key);
      if (this.services.has(ks)) this.applyOne(spec, result);
      else {
        fresh.push(spec);
        freshKeys.push(ks);
      }
    }
    if (fresh.length === 0) return result;
    try {
      // A loop, not push(...): spreading 80,000 services as arguments can overflow the stack.
      for (const programmed of this.batchInsert(fresh, freshKeys)) result.applied.push(programmed);
    } catch {
      for (const spec of fresh) this.applyOne(spec, result);
    }
    return result;
  }

  private applyOne(spec: ServiceSpec, result: BulkResult): void {
    try {
      result.applied.push(this.apply(spec));
    } catch (error) {
      result.failed.push({ spec, error: error as Error });
    }
  }

  private batchInsert(specs: readonly ServiceSpec[], keys: readonly string[]): ProgrammedService[] {
    const plan = planBulk(specs, keys, this.backends, { service: this.nextServiceId, backend: this.nextBackendId, next: nextId });
    const { batches } = plan;
    const written = { backends: 0, slots: 0, services: 0 };
    const batch = (map: BpfMap, field: keyof typeof written, rows: MapDump): void => {
      const r = map.updateBatch(rows.keys, rows.values, rows.count);
      written[field] = r.written;
      if (r.errno) throw new BpfCallError('bpf_map_update_batch', r.errno, map.name);
    };
    try {
      batch(this.maps.backends, 'backends', batches.backends);
      batch(this.maps.slots, 'slots', batches.slots);
      batch(this.maps.services, 'services', batches.services);
    } catch (err) {
      // The ids were in the kernel, however briefly: a connect may have read one. Never hand
      // them out again, so the services applied one by one next get fresh ids.
      this.nextBackendId = plan.nextBackendId;
      this.nextServiceId = plan.nextServiceId;
      // Undo in reverse order of visibility: services first, then the slots and backends.
      const del = (map: BpfMap, rows: MapDump, n: number): void => {
        for (let i = 0; i < n; i++) map.delete(keyAt(rows, i));
      };
      del(this.maps.services, batches.services, written.services);
      del(this.maps.slots, batches.slots, written.slots);
      del(this.maps.backends, batches.backends, written.backends);
      throw err;
    }

    const { ids, keys: backendKeys, addresses } = plan.newBackends;
    this.backends.reserve(ids.length);
    ids.forEach((id, i) => this.backends.add(id, backendKeys[i]!, addresses[i]!, batches.backends.values, i * backendValue.size));
    plan.services.forEach((s, i) => {
      this.services.set(keys[i]!, s);
      this.retain(s.tiers);
    });
    this.nextBackendId = plan.nextBackendId;
    this.nextServiceId = plan.nextServiceId;
    return plan.services.map((s) => toProgrammed(s, this.backends));
  }

  private ensureBackend(b: BackendSpec, address: ParsedAddress, undo: Array<() => void>, label: string): number {
    const key = backendKey(address, b.port);
    const value = Buffer.allocUnsafe(backendValue.size);
    backendValue.write(value, 0, address, b.port, b.nodeId, b.terminating);
    const existing = this.backends.idOf(key);
    if (existing !== undefined) {
      if (!this.backends.sameValue(existing, value)) {
        const before = Buffer.from(this.backends.value(existing)!);
        this.write(this.maps.backends, backendId.encode(existing), value, label);
        this.backends.setValue(existing, value);
        undo.push(() => {
          this.maps.backends.update(backendId.encode(existing), before);
          this.backends.setValue(existing, before);
        });
      }
      return existing;
    }
    const id = this.nextBackendId;
    this.write(this.maps.backends, backendId.encode(id), value, label, UPDATE_NOEXIST);
    this.nextBackendId = nextId(id);
    this.backends.add(id, key, address.canonical, value);
    undo.push(() => {
      this.maps.backends.delete(backendId.encode(id));
      this.backends.remove(id);
    });
    return id;
  }

  private write(map: BpfMap, key: Buffer, value: Buffer, label: string, flags?: number): void {
    try {
      map.update(key, value, flags);
    } catch (err) {
      if (err instanceof BpfCallError && err.errno === E2BIG) throw new MapFullError(map.name, label, map.capacity);
      throw err;
    }
  }

  private retain(tiers: PackedTiers): void {
    forEachId(tiers, (id) => this.backends.retain(id));
  }

  private release(tiers: PackedTiers): void {
    forEachId(tiers, (id) => {
      if (!this.backends.release(id)) return;
      this.maps.backends.delete(backendId.encode(id));
      this.backends.remove(id);
    });
  }
}

function nextId(id: number): number {
  return id >= 0xffffffff ? 1 : id + 1;
}
