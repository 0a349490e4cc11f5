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
import type { BpfMap } from './bpf-map.js';
import { backendId, backendValue, type BackendValue, counterKey, slotKey, svcKey, svcValue } from './codecs.js';
import { canonicalAddress, familyOf } from './addr.js';
import { type DriftReport, planRepairs } from './drift.js';
import { BpfCallError, InvalidServiceError, MapFullError } from './errors.js';
import type { DatapathMaps } from './loader.js';
import { UPDATE_NOEXIST } from './libbpf.js';
import { layoutTier } from './tier-layout.js';
import {
  type BackendSpec,
  MAX_TIER_SIZE,
  MAX_TIERS,
  type ModeName,
  type ProgrammedService,
  type ServiceKey,
  type ServiceSpec,
  serviceKeyString,
} from './types.js';

const E2BIG = 7;

interface MirrorService {
  key: ServiceKey;
  id: number;
  mode: ModeName;
  weights: number[];
  /** Backend ids per tier, index = slot index; 0 marks a slot found missing on read-back. */
  tiers: number[][];
}

interface MirrorBackend {
  /** Replaced on change, never mutated: drift.ts keeps the encoded bytes per value object. */
  value: BackendValue;
  refs: number;
}

export interface ReadBackReport {
  services: number;
  backends: number;
  /** Slots or backends a live count pointed at but that were missing (repaired on next apply). */
  holes: number;
  /** Stray entries from an interrupted writer, deleted. */
  collected: number;
}

export interface BulkResult {
  applied: ProgrammedService[];
  failed: Array<{ spec: ServiceSpec; error: Error }>;
}

export class ServiceWriter {
  private readonly services = new Map<string, MirrorService>();
  private readonly backends = new Map<number, MirrorBackend>();
  private readonly backendIds = new Map<string, number>();
  // Ids only grow (wrapping at 2^32) so a connect that read an old id just before a delete can
  // never find that id reused for another address.
  private nextServiceId = 1;
  private nextBackendId = 1;
  readonly readBack: ReadBackReport;

  constructor(private readonly maps: DatapathMaps) {
    this.readBack = this.readProgrammed();
  }

  /** What the maps hold now, as this writer knows it. */
  programmed(): ProgrammedService[] {
    return [...this.services.values()].map((s) => this.toProgrammed(s));
  }

  get(key: ServiceKey): ProgrammedService | undefined {
    const s = this.services.get(keyOf(key));
    return s && this.toProgrammed(s);
  }

  serviceId(key: ServiceKey): number | undefined {
    return this.services.get(keyOf(key))?.id;
  }

  apply(spec: ServiceSpec): ProgrammedService {
    const label = `${spec.label} ${serviceKeyString(spec.key)}`;
    validate(spec, label);
    const ks = keyOf(spec.key);
    const old = this.services.get(ks);
    const undo: Array<() => void> = [];
    const id = old?.id ?? this.nextServiceId;
    const weights = Array.from({ length: MAX_TIERS }, (_, t) => spec.weights?.[t] ?? 0);
    let tiers: number[][];
    const trailing: Array<[tier: number, index: number]> = [];
    try {
      const ids = spec.tiers.map((tier) => tier.map((b) => this.ensureBackend(b, undo, label)));
      tiers = [];
      for (let t = 0; t < MAX_TIERS; t++) {
        const before = old?.tiers[t] ?? [];
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
    const entry: MirrorService = { key: spec.key, id, mode: spec.mode, weights, tiers };
    this.services.set(ks, entry);
    this.retain(entry.tiers);
    if (old) this.release(old.tiers);
    return this.toProgrammed(entry);
  }

  /** Removes a service: unpublish first, then its slots, then backends nobody names. */
  remove(key: ServiceKey): boolean {
    const ks = keyOf(key);
    const old = this.services.get(ks);
    if (!old) return false;
    this.maps.services.delete(svcKey.encode(key));
    this.services.delete(ks);
    old.tiers.forEach((tier, t) =>
      tier.forEach((_, index) => this.maps.slots.delete(slotKey.encode({ svcId: old.id, tier: t, index }))),
    );
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
      { services: [...this.services.values()], backends: this.backends },
      { services: this.maps.services.entries(), slots: this.maps.slots.entries(), backends: this.maps.backends.entries() },
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
    for (const spec of specs) {
      if (this.services.has(keyOf(spec.key))) this.applyOne(spec, result);
      else fresh.push(spec);
    }
    if (fresh.length === 0) return result;
    try {
      result.applied.push(...this.batchInsert(fresh));
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

  private batchInsert(specs: readonly ServiceSpec[]): ProgrammedService[] {
    const newBackends = new Map<string, { id: number; value: BackendValue }>();
    let nextBackend = this.nextBackendId;
    let nextService = this.nextServiceId;
    const planned: MirrorService[] = [];
    const seenKeys = new Set<string>();
    for (const spec of specs) {
      const label = `${spec.label} ${serviceKeyString(spec.key)}`;
      validate(spec, label);
      if (seenKeys.has(keyOf(spec.key))) throw new InvalidServiceError(label, 'listed twice in one bulk load');
      seenKeys.add(keyOf(spec.key));
      const tiers = Array.from({ length: MAX_TIERS }, (_, t) => {
        const ids = (spec.tiers[t] ?? []).map((b) => {
          const bk = backendKeyOf(b);
          const existing = this.backendIds.get(bk) ?? newBackends.get(bk)?.id;
          if (existing !== undefined) return existing;
          const id = nextBackend;
          nextBackend = nextId(nextBackend);
          newBackends.set(bk, { id, value: toBackendValue(b) });
          return id;
        });
        return [...new Set(ids)];
      });
      const weights = Array.from({ length: MAX_TIERS }, (_, t) => spec.weights?.[t] ?? 0);
      planned.push({ key: spec.key, id: nextService, mode: spec.mode, weights, tiers });
      nextService = nextId(nextService);
    }

    const backendRows = [...newBackends.values()];
    const slotRows = planned.flatMap((s) =>
      s.tiers.flatMap((tier, t) => tier.map((b, index) => ({ key: { svcId: s.id, tier: t, index }, b }))),
    );
    const written = { backends: 0, slots: 0, services: 0 };
    const batch = (map: BpfMap, field: keyof typeof written, keys: Buffer[], values: Buffer[]): void => {
      const r = map.updateBatch(Buffer.concat(keys), Buffer.concat(values), keys.length);
      written[field] = r.written;
      if (r.errno) throw new BpfCallError('bpf_map_update_batch', r.errno, map.name);
    };
    try {
      batch(
        this.maps.backends,
        'backends',
        backendRows.map((r) => backendId.encode(r.id)),
        backendRows.map((r) => backendValue.encode(r.value)),
      );
      batch(
        this.maps.slots,
        'slots',
        slotRows.map((r) => slotKey.encode(r.key)),
        slotRows.map((r) => backendId.encode(r.b)),
      );
      batch(
        this.maps.services,
        'services',
        planned.map((s) => svcKey.encode(s.key)),
        planned.map((s) =>
          svcValue.encode({ id: s.id, mode: s.mode, counts: s.tiers.map((t) => t.length), weights: s.weights }),
        ),
      );
    } catch (err) {
      // Undo in reverse order of visibility: services first, then the slots and backends.
      const del = (map: BpfMap, keys: Buffer[]): void => keys.forEach((k) => map.delete(k));
      del(this.maps.services, planned.slice(0, written.services).map((s) => svcKey.encode(s.key)));
      del(this.maps.slots, slotRows.slice(0, written.slots).map((r) => slotKey.encode(r.key)));
      del(this.maps.backends, backendRows.slice(0, written.backends).map((r) => backendId.encode(r.id)));
      throw err;
    }

    for (const row of backendRows) {
      this.backends.set(row.id, { value: row.value, refs: 0 });
      this.backendIds.set(backendKeyOf(row.value), row.id);
    }
    for (const s of planned) {
      this.services.set(keyOf(s.key), s);
      this.retain(s.tiers);
    }
    this.nextBackendId = nextBackend;
    this.nextServiceId = nextService;
    return planned.map((s) => this.toProgrammed(s));
  }

  private ensureBackend(b: BackendSpec, undo: Array<() => void>, label: string): number {
    const bk = backendKeyOf(b);
    const value = toBackendValue(b);
    const existing = this.backendIds.get(bk);
    if (existing !== undefined) {
      const mirror = this.backends.get(existing)!;
      if (mirror.value.nodeId !== value.nodeId || mirror.value.terminating !== value.terminating) {
        const before = mirror.value;
        this.write(this.maps.backends, backendId.encode(existing), backendValue.encode(value), label);
        mirror.value = value;
        undo.push(() => {
          this.maps.backends.update(backendId.encode(existing), backendValue.encode(before));
          mirror.value = before;
        });
      }
      return existing;
    }
    const id = this.nextBackendId;
    this.write(this.maps.backends, backendId.encode(id), backendValue.encode(value), label, UPDATE_NOEXIST);
    this.nextBackendId = nextId(id);
    this.backends.set(id, { value, refs: 0 });
    this.backendIds.set(bk, id);
    undo.push(() => {
      this.maps.backends.delete(backendId.encode(id));
      this.backends.delete(id);
      this.backendIds.delete(bk);
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

  private retain(tiers: number[][]): void {
    for (const tier of tiers) for (const id of tier) {
      const b = this.backends.get(id);
      if (b) b.refs++;
    }
  }

  private release(tiers: number[][]): void {
    for (const tier of tiers) for (const id of tier) {
      const b = this.backends.get(id);
      if (!b) continue;
      b.refs--;
      if (b.refs <= 0) {
        this.maps.backends.delete(backendId.encode(id));
        this.backends.delete(id);
        this.backendIds.delete(backendKeyOf(b.value));
      }
    }
  }

  private toProgrammed(s: MirrorService): ProgrammedService {
    return {
      key: s.key,
      id: s.id,
      mode: s.mode,
      weights: s.weights,
      tiers: s.tiers.map((tier) =>
        tier.flatMap((id) => {
          const b = this.backends.get(id);
          return b ? [{ id, ...b.value }] : [];
        }),
      ),
    };
  }

  /** Rebuilds the mirror from the pinned maps and collects what an interrupted run left. */
  private readProgrammed(): ReadBackReport {
    const report: ReadBackReport = { services: 0, backends: 0, holes: 0, collected: 0 };
    let maxService = 0;
    let maxBackend = 0;
    for (const [k, v] of this.maps.backends.entries()) {
      const id = backendId.decode(k);
      const value = backendValue.decode(v);
      this.backends.set(id, { value, refs: 0 });
      this.backendIds.set(backendKeyOf(value), id);
      maxBackend = Math.max(maxBackend, id);
    }
    const liveSlots = new Set<string>();
    for (const [k, v] of this.maps.services.entries()) {
      const key = svcKey.decode(k);
      const value = svcValue.decode(v);
      const tiers = value.counts.map((count, t) =>
        Array.from({ length: count }, (_, index) => {
          liveSlots.add(`${value.id}/${t}/${index}`);
          const slot = this.maps.slots.lookup(slotKey.encode({ svcId: value.id, tier: t, index }));
          const id = slot ? backendId.decode(slot) : 0;
          if (!this.backends.has(id)) {
            report.holes++;
            return 0;
          }
          return id;
        }),
      );
      const entry: MirrorService = { key, id: value.id, mode: value.mode, weights: value.weights, tiers };
      this.services.set(keyOf(key), entry);
      this.retain(tiers);
      maxService = Math.max(maxService, value.id);
    }
    for (const k of this.maps.slots.keys()) {
      const s = slotKey.decode(k);
      if (!liveSlots.has(`${s.svcId}/${s.tier}/${s.index}`) && this.maps.slots.delete(k)) report.collected++;
    }
    for (const [id, b] of [...this.backends]) {
      if (b.refs > 0) continue;
      this.maps.backends.delete(backendId.encode(id));
      this.backends.delete(id);
      this.backendIds.delete(backendKeyOf(b.value));
      report.collected++;
    }
    const liveIds = new Set([...this.services.values()].map((s) => s.id));
    for (const k of this.maps.counters.keys()) {
      if (!liveIds.has(counterKey.decode(k).svcId)) this.maps.counters.delete(k);
    }
    report.services = this.services.size;
    report.backends = this.backends.size;
    this.nextServiceId = nextId(maxService);
    this.nextBackendId = nextId(maxBackend);
    return report;
  }
}

function validate(spec: ServiceSpec, label: string): void {
  const family = familyOf(spec.key.address);
  if (spec.tiers.length > MAX_TIERS) throw new InvalidServiceError(label, `${spec.tiers.length} tiers, at most ${MAX_TIERS}`);
  if (!(spec.key.port > 0 && spec.key.port < 65536)) throw new InvalidServiceError(label, `bad port ${spec.key.port}`);
  spec.tiers.forEach((tier, t) => {
    if (tier.length > MAX_TIER_SIZE) throw new InvalidServiceError(label, `tier ${t} has ${tier.length} endpoints`);
    for (const b of tier) {
      if (familyOf(b.address) !== family) {
        throw new InvalidServiceError(label, `backend ${b.address} is not IPv${family} like the VIP`);
      }
      if (!(b.port > 0 && b.port < 65536)) throw new InvalidServiceError(label, `backend ${b.address} has bad port ${b.port}`);
    }
  });
  if (spec.mode === 'WEIGHTED' && !(spec.weights ?? []).some((w) => w > 0)) {
    throw new InvalidServiceError(label, 'WEIGHTED mode needs at least one positive tier weight');
  }
}

function keyOf(k: ServiceKey): string {
  return serviceKeyString({ ...k, address: canonicalAddress(k.address) });
}

function backendKeyOf(b: { address: string; port: number }): string {
  return `${canonicalAddress(b.address)}#${b.port}`;
}

function toBackendValue(b: BackendSpec): BackendValue {
  return { address: canonicalAddress(b.address), port: b.port, nodeId: b.nodeId, terminating: b.terminating };
}

function nextId(id: number): number {
  return id >= 0xffffffff ? 1 : id + 1;
}
