/*
 * The one account of what is programmed, and the only code that writes services to the maps.
 * It writes in an order a racing connect can never observe half-done (docs/architecture.md,
 * "Write order" and "Consistency rules"):
 *   1. backends  (new ones, invisible until a slot names them)
 *   2. slots     (past the live count: invisible; below it: replaced by another live backend)
 *   3. service   (one atomic value replace publishes every tier's new count at once)
 *   4. trailing slots, then backends no slot names any more.
 * Anything failing before the service entry changes is undone (undo-log.ts), so the service
 * stays as it was. Its record (the mirror) changes only once the kernel accepted the change;
 * the reconciler compares plans with it, and labels and totals for metrics come from it.
 */
import type { ParsedAddress } from './addr.js';
import { BackendTable } from './backend-table.js';
import { type BpfMap, type DatapathMaps, type MapOps, opsOf, UPDATE_NOEXIST } from './bpf-map.js';
import { newBackendsOf, planBulk } from './bulk-plan.js';
import { backendId, backendValue, counterKey, slotKey, svcKey, svcValue } from './codecs.js';
import { type DriftReport, planRepairs } from './drift.js';
import { applyRepairs } from './drift-repair.js';
import { BpfCallError } from './errors.js';
import { backendKey, backendKeyOf, balanceOf, programmedAs, serviceKeyText, slotsAreTable } from './identity.js';
import { KernelState, readSnapshot } from './kernel-state.js';
import { keyAt, type MapDump } from './map-dump.js';
import { writeEntry } from './map-write.js';
import { type MirrorService, toProgrammed, toProgrammedLazily, weightsOf } from './mirror-service.js';
import { MirrorTiers } from './mirror-tiers.js';
import { forEachId, packTiers, type PackedTiers, tierCounts, tierEnd, tierIds, tierStart, unpackTiers } from './packed-tiers.js';
import { collectLeftovers, type ReadBack, readBack, type ReadBackReport } from './read-back.js';
import { type ProgrammedTotals, ServiceMirror } from './service-mirror.js';
import { encodeOutlier, readOutliers, sameOutlier } from './outlier.js';
import { firstLayout, layoutTable, layoutTier } from './tier-layout.js';
import { type BackendSpec, MAX_TIERS, type OutlierSpec, type ProgrammedService, type ServiceKey, type ServiceSpec } from './types.js';
import { UndoLog } from './undo-log.js';
import { validateSpec } from './validate.js';

export type { ReadBackReport } from './read-back.js';
export type { ProgrammedTotals } from './service-mirror.js';

export interface BulkResult {
  /**
   * The services written, as the maps now hold them, built when first read: one object per
   * endpoint, which a caller that only needs to know what went in (appliedKeys) never pays for.
   */
  readonly applied: readonly ProgrammedService[];
  /** Key text (identity.ts) of each service written, in the order of applied. */
  readonly appliedKeys: readonly string[];
  readonly failed: Array<{ spec: ServiceSpec; error: Error }>;
}

export class ServiceWriter {
  private readonly view: MirrorTiers;
  // Ids only grow (wrapping at 2^32) so a connect that read an old id just before a delete can
  // never find that id reused for another address.
  private nextServiceId: number;
  private nextBackendId: number;
  private undoFailures = 0;
  // After an undo that could not finish, the record is what the maps should hold, not what they
  // hold, until drift repair runs. Writes diff against the record, and three gaps would let them
  // publish a hole: a remove cut short leaves slots and backends deleted that the record still
  // names (unsettled: the service's next apply rewrites every slot it publishes; unsureBackends:
  // written again before a slot names them, even when the record says the value is unchanged),
  // and an apply or batch cut short leaves live slots naming backends the record does not tie to
  // that service (heldBackends: never deleted as orphans; drift repair collects them).
  private readonly unsettled = new Set<string>();
  private readonly unsureBackends = new Set<number>();
  private readonly heldBackends = new Set<number>();
  // Scratch for single writes, which the kernel copies during the call.
  private readonly slotScratch = Buffer.alloc(slotKey.size);
  private readonly idScratch = Buffer.alloc(backendId.size);
  private readonly valueScratch = Buffer.alloc(backendValue.size);
  readonly readBack: ReadBackReport;

  private constructor(
    private readonly maps: DatapathMaps,
    private readonly mirror: ServiceMirror,
    private readonly backends: BackendTable,
    read: ReadBack,
  ) {
    this.view = new MirrorTiers(backends);
    this.readBack = read.report;
    this.nextServiceId = nextId(read.maxServiceId);
    this.nextBackendId = nextId(read.maxBackendId);
  }

  /**
   * A writer over maps that may hold what an earlier one programmed (an agent restart): reads
   * them back into its record, then deletes what an interrupted run left behind. The only step
   * that deletes anything without being asked to.
   */
  static open(maps: DatapathMaps): ServiceWriter {
    const mirror = new ServiceMirror();
    const backends = new BackendTable();
    const read = readBack(new KernelState(readSnapshot(maps)), mirror, backends);
    readOutliers(maps, mirror);
    collectLeftovers(maps, read, mirror, backends);
    return new ServiceWriter(maps, mirror, backends, read);
  }

  /** What the maps hold now, as this writer knows it. */
  programmed(): ProgrammedService[] {
    return [...this.mirror.values()].map((s) => toProgrammed(s, this.backends));
  }

  get(key: ServiceKey): ProgrammedService | undefined {
    const s = this.mirror.get(serviceKeyText(key));
    return s && toProgrammed(s, this.backends);
  }

  /** Key text (identity.ts) of every programmed service. */
  keys(): IterableIterator<string> {
    return this.mirror.keys();
  }

  /** The key a programmed service was written with, by its key text. */
  keyOf(text: string): ServiceKey | undefined {
    return this.mirror.get(text)?.key;
  }

  serviceId(key: ServiceKey): number | undefined {
    return this.mirror.get(serviceKeyText(key))?.id;
  }

  /** Whether the service is programmed exactly as `spec` says (identity.ts, programmedAs). */
  matches(spec: ServiceSpec): boolean {
    const s = this.mirror.get(serviceKeyText(spec.key));
    return s !== undefined && programmedAs(spec, this.view.of(s));
  }

  /** The label of the spec a service was last written or relabelled with. */
  label(key: ServiceKey): string | undefined {
    return this.mirror.get(serviceKeyText(key))?.label;
  }

  /** Labels by service id, as the connect counters name services; built when asked. */
  labelsById(): Map<number, string> {
    return new Map([...this.mirror.values()].map((s) => [s.id, s.label]));
  }

  /** Names a programmed service after another spec label, without a map write (labels live here only). */
  relabel(key: ServiceKey, label: string): void {
    const ks = serviceKeyText(key);
    const s = this.mirror.get(ks);
    if (s && s.label !== label) this.mirror.set(ks, { ...s, label });
  }

  /** The node id a programmed backend carries, or undefined when no service names it. */
  nodeIdOf(address: string, port: number): number | undefined {
    const key = backendKeyOf(address, port);
    const id = key === undefined ? undefined : this.backends.idOf(key);
    const value = id === undefined ? undefined : this.backends.value(id);
    return value && backendValue.nodeId(value);
  }

  totals(): ProgrammedTotals {
    return this.mirror.totals();
  }

  /** Operations made on each map since it was opened (bpf-map.ts). */
  mapOps(): Record<string, MapOps> {
    return opsOf(this.maps);
  }

  /** Undos that could not put the maps all the way back; drift repair finishes them. */
  get incompleteUndos(): number {
    return this.undoFailures;
  }

  apply(spec: ServiceSpec): ProgrammedService {
    // Errors name the key as the caller spelled it; the record keys it by its canonical text.
    const label = `${spec.label} ${serviceKeyText(spec.key, spec.key.address)}`;
    const valid = validateSpec(spec, label);
    const ks = serviceKeyText(spec.key, valid.vip.canonical);
    const old = this.mirror.get(ks);
    const unsettled = this.unsettled.has(ks);
    const id = old?.id ?? this.nextServiceId;
    const weights = weightsOf(spec.weights);
    const balance = balanceOf(spec);
    const undo = new UndoLog();
    const tiers: number[][] = [];
    const trailing: Buffer[] = [];
    let ids: number[][] = [];
    try {
      let a = 0;
      ids = spec.tiers.map((tier) => tier.map((b) => this.ensureBackend(b, valid.backends[a++]!, undo, label)));
      for (let t = 0; t < MAX_TIERS; t++) {
        const before = old ? tierIds(old.tiers, t) : NO_IDS;
        const table = slotsAreTable(balance);
        if (before.length === 0) {
          // A tier that had no slots: every slot is a write, nothing to delete.
          const next = table ? (ids[t] ?? NO_IDS).slice() : firstLayout(ids[t] ?? NO_IDS);
          this.writeNewSlots(id, t, next, undo, label);
          tiers.push(next);
          continue;
        }
        const layout = (table ? layoutTable : layoutTier)(before, ids[t] ?? NO_IDS);
        if (unsettled) layout.next.forEach((backend, index) => this.writeSlot(id, t, index, backend, before[index], undo, label));
        else for (const [index, backend] of layout.writes) this.writeSlot(id, t, index, backend, before[index], undo, label);
        for (const index of layout.deletes) trailing.push(slotKey.encode({ svcId: id, tier: t, index }));
        tiers.push([...layout.next]);
      }
      // Settings before the entry: a new service's first failed connect already finds them.
      if (spec.outlier && !sameOutlier(old?.outlier, spec.outlier)) this.writeOutlier(id, spec.outlier, old?.outlier, undo, label);
      const value = svcValue.encode({
        id,
        mode: spec.mode,
        balance,
        counts: tiers.map((t) => t.length),
        weights,
        spillover: spec.spillover,
        affinitySeconds: spec.affinitySeconds,
      });
      writeEntry(this.maps.services, svcKey.encode(spec.key), value, label);
    } catch (err) {
      if (!this.rollBack(undo)) {
        this.unsettled.add(ks);
        for (const tier of ids) for (const b of tier) this.heldBackends.add(b);
      }
      throw err;
    }

    // Committed: connects now use the new counts. Record it, then clean up behind them.
    if (!old) this.nextServiceId = nextId(id);
    this.unsettled.delete(ks);
    const entry: MirrorService = {
      key: spec.key,
      label: spec.label,
      id,
      mode: spec.mode,
      balance,
      weights,
      tiers: packTiers(tiers),
      ...(spec.outlier ? { outlier: spec.outlier } : {}),
      ...(spec.spillover ? { spillover: spec.spillover } : {}),
      ...(spec.affinitySeconds ? { affinitySeconds: spec.affinitySeconds } : {}),
    };
    this.mirror.set(ks, entry);
    this.retain(entry.tiers);
    const orphans = old ? this.release(old.tiers) : [];
    const orphanKeys = orphans.map((b) => backendId.encode(b));
    let failed = sweep(this.maps.backendConns, orphanKeys, sweep(this.maps.backends, orphanKeys, sweep(this.maps.slots, trailing)));
    failed = sweep(this.maps.backendHealth, orphanKeys, failed);
    // Ejection turned off: the row goes once the entry is published; a connect never needs it.
    if (old?.outlier && !spec.outlier) failed = sweep(this.maps.outlier, [backendId.encode(id)], failed);
    // eslint-disable-next-line @typescript-eslint/only-throw-error -- rethrows, unchanged, what a map's delete threw
    if (failed !== undefined) throw failed;
    return toProgrammed(entry, this.backends);
  }

  /**
   * Removes a service: unpublish its entry first, then its slots, then backends nobody else
   * names. If one of those fails, what was deleted is written back and the entry published
   * again, so the service stays as it was. Its counters, its rotation and the open-connection
   * counts of its deleted backends go last, once it is gone.
   */
  remove(key: ServiceKey): boolean {
    const ks = serviceKeyText(key);
    const old = this.mirror.get(ks);
    if (!old) return false;
    const label = `${old.label} ${ks}`;
    const entryKey = svcKey.encode(old.key);
    const counts = tierCounts(old.tiers);
    const undo = new UndoLog();
    try {
      if (this.maps.services.delete(entryKey)) {
        const value = svcValue.encode({
          id: old.id,
          mode: old.mode,
          balance: old.balance,
          counts,
          weights: old.weights,
          spillover: old.spillover,
          affinitySeconds: old.affinitySeconds,
        });
        undo.add(() => writeEntry(this.maps.services, entryKey, value, label));
      }
      counts.forEach((count, t) => {
        for (let index = 0; index < count; index++) {
          const slot = slotKey.encode({ svcId: old.id, tier: t, index });
          const backend = old.tiers[tierStart(old.tiers, t) + index]!;
          if (this.maps.slots.delete(slot) && backend !== 0) undo.add(() => this.maps.slots.update(slot, backendId.encode(backend)));
        }
      });
      for (const id of this.orphansOf(old.tiers)) {
        const bk = backendId.encode(id);
        const value = Buffer.from(this.backends.value(id)!);
        if (this.maps.backends.delete(bk)) undo.add(() => this.maps.backends.update(bk, value));
      }
    } catch (err) {
      if (!this.rollBack(undo)) {
        this.unsettled.add(ks);
        forEachId(old.tiers, (b) => {
          if (b !== 0) this.unsureBackends.add(b);
        });
      }
      throw err;
    }

    // Committed: nothing a connect reads names the service any more.
    this.mirror.delete(ks);
    this.unsettled.delete(ks);
    const orphans = this.release(old.tiers).map((b) => backendId.encode(b));
    let failed = sweep(
      this.maps.counters,
      Array.from({ length: MAX_TIERS }, (_, tier) => counterKey.encode({ svcId: old.id, tier })),
    );
    failed = sweep(this.maps.rotation, [backendId.encode(old.id)], failed); // a bare __u32 key
    failed = sweep(this.maps.backendConns, orphans, failed);
    failed = sweep(this.maps.backendHealth, orphans, failed);
    failed = sweep(this.maps.outlier, [backendId.encode(old.id)], failed); // bare __u32 keys
    failed = sweep(this.maps.svcEjections, [backendId.encode(old.id)], failed);
    // eslint-disable-next-line @typescript-eslint/only-throw-error -- rethrows, unchanged, what a map's delete threw
    if (failed !== undefined) throw failed;
    return true;
  }

  /**
   * Re-reads the services, slots and backends maps and repairs whatever differs from what this
   * writer programmed: drift.ts decides what, drift-repair.ts writes it in the safe order. A
   * service that matches is not written at all. The record is not changed: it is the truth.
   */
  repairDrift(): DriftReport {
    const mirror = {
      services: [...this.mirror.values()].map((s) => ({ ...s, tiers: unpackTiers(s.tiers) })),
      backendValue: (id: number) => this.backends.value(id),
    };
    const report = applyRepairs(this.maps, planRepairs(mirror, readSnapshot(this.maps)));
    if (report.failed.length === 0) {
      this.unsettled.clear();
      this.unsureBackends.clear();
      this.heldBackends.clear();
    }
    return report;
  }

  /**
   * Bulk load, as on a first start with thousands of services: new services go through three
   * batch writes (backends, slots, services) in the same safe order. If a batch is refused, what
   * it wrote is undone and each service is applied alone, so the failure names its service and
   * leaves the others programmed. Services that already exist are updated one by one.
   */
  applyMany(specs: readonly ServiceSpec[]): BulkResult {
    const result = new BulkOutcome();
    const fresh: ServiceSpec[] = [];
    const freshKeys: string[] = [];
    for (const spec of specs) {
      const ks = serviceKeyText(spec.key);
      if (this.mirror.has(ks) || spec.outlier) this.applyOne(spec, ks, result);
      else {
        fresh.push(spec);
        freshKeys.push(ks);
      }
    }
    if (fresh.length === 0) return result.done();
    // The batch names a programmed backend without writing it, which is only safe while the
    // kernel holds what the record says (see unsureBackends).
    if (this.unsureBackends.size > 0) {
      for (let i = 0; i < fresh.length; i++) this.applyOne(fresh[i]!, freshKeys[i]!, result);
      return result.done();
    }
    let batch: () => ProgrammedService[];
    try {
      batch = this.insertBatch(fresh, freshKeys);
    } catch {
      for (let i = 0; i < fresh.length; i++) this.applyOne(fresh[i]!, freshKeys[i]!, result);
      return result.done();
    }
    result.addBatch(freshKeys, batch);
    return result.done();
  }

  private applyOne(spec: ServiceSpec, key: string, result: BulkOutcome): void {
    try {
      result.add(key, this.apply(spec));
    } catch (error) {
      result.failed.push({ spec, error: error as Error });
    }
  }

  /** Writes the batch; returns what builds its services as the maps hold them. */
  private insertBatch(specs: readonly ServiceSpec[], keys: readonly string[]): () => ProgrammedService[] {
    const plan = planBulk(specs, keys, this.backends, { service: this.nextServiceId, backend: this.nextBackendId, next: nextId });
    const { batches } = plan;
    const undo = new UndoLog();
    const batch = (map: BpfMap, rows: MapDump): void => {
      const r = map.updateBatch(rows.keys, rows.values, rows.count);
      undo.add(() => {
        for (let i = 0; i < r.written; i++) map.delete(keyAt(rows, i));
      });
      if (r.errno) throw new BpfCallError('bpf_map_update_batch', r.errno, map.name);
    };
    try {
      batch(this.maps.backends, batches.backends);
      batch(this.maps.slots, batches.slots);
      batch(this.maps.services, batches.services);
    } catch (err) {
      // The ids were in the kernel, however briefly: a connect may have read one. Never hand
      // them out again, so the services applied one by one next get fresh ids.
      this.nextBackendId = plan.nextBackendId;
      this.nextServiceId = plan.nextServiceId;
      // Undone in reverse order of visibility: services first, then the slots and backends. Cut
      // short, services the record lacks may stay published, naming programmed backends.
      if (!this.rollBack(undo)) {
        for (const s of plan.services)
          forEachId(s.tiers, (b) => {
            if (b !== 0) this.heldBackends.add(b);
          });
      }
      throw err;
    }

    const { ids, addresses, refs, index } = plan.newBackends;
    this.backends.addBatch(ids, addresses, batches.backends.values, refs, index);
    for (const id of plan.programmedRefs) this.backends.retain(id);
    for (let i = 0; i < plan.services.length; i++) this.mirror.set(keys[i]!, plan.services[i]!);
    this.nextBackendId = plan.nextBackendId;
    this.nextServiceId = plan.nextServiceId;
    // Backends programmed before the load may change later: then the result is built now.
    if (plan.programmedRefs.length > 0) {
      const now = plan.services.map((s) => toProgrammed(s, this.backends));
      return () => now;
    }
    // Otherwise from the load's own rows, which never change.
    const rows = newBackendsOf(plan);
    return () => plan.services.map((s) => toProgrammedLazily(s, rows));
  }

  private ensureBackend(b: BackendSpec, address: ParsedAddress, undo: UndoLog, label: string): number {
    const key = backendKey(address, b.port);
    // Scratch: the table and the kernel copy it before the next backend is encoded.
    const value = this.valueScratch;
    backendValue.write(value, 0, address, b.port, b.nodeId, b.terminating);
    const existing = this.backends.idOf(key);
    if (existing !== undefined) {
      if (!this.backends.sameValue(existing, value) || this.unsureBackends.has(existing)) {
        const before = Buffer.from(this.backends.value(existing)!);
        writeEntry(this.maps.backends, backendId.encode(existing, this.idScratch), value, label);
        this.backends.setValue(existing, value);
        // In the kernel now, whatever an undo does: it writes the old value back, never deletes.
        this.unsureBackends.delete(existing);
        undo.add(
          () => this.maps.backends.update(backendId.encode(existing), before),
          () => this.backends.setValue(existing, before),
        );
      }
      return existing;
    }
    const id = this.nextBackendId;
    writeEntry(this.maps.backends, backendId.encode(id, this.idScratch), value, label, UPDATE_NOEXIST);
    this.nextBackendId = nextId(id);
    this.backends.add(id, key, address.canonical, value);
    undo.add(
      () => this.maps.backends.delete(backendId.encode(id)),
      () => this.backends.remove(id),
    );
    return id;
  }

  private writeOutlier(svcId: number, spec: OutlierSpec, previous: OutlierSpec | undefined, undo: UndoLog, label: string): void {
    const key = backendId.encode(svcId); // a bare __u32 key, as a backend id is
    writeEntry(this.maps.outlier, key, encodeOutlier(spec), label);
    undo.add(() => (previous ? this.maps.outlier.update(key, encodeOutlier(previous)) : this.maps.outlier.delete(key)));
  }

  /**
   * Slots 0.. of a tier that had none, in a row. The kernel copies key and value during each
   * write, so one scratch key and value serve them all (no buffer per slot), and one undo step
   * deletes those written.
   */
  private writeNewSlots(svcId: number, tier: number, next: readonly number[], undo: UndoLog, label: string): void {
    const key = this.slotScratch;
    const value = this.idScratch;
    let written = 0;
    undo.add(() => {
      // Newest first, as one step per slot would.
      for (let index = written - 1; index >= 0; index--) this.maps.slots.delete(slotKey.encode({ svcId, tier, index }));
    });
    for (let index = 0; index < next.length; index++) {
      slotKey.write(key, 0, svcId, tier, index);
      backendId.encode(next[index]!, value);
      writeEntry(this.maps.slots, key, value, label);
      written++;
    }
  }

  private writeSlot(
    svcId: number,
    tier: number,
    index: number,
    backend: number,
    previous: number | undefined,
    undo: UndoLog,
    label: string,
  ): void {
    const key = slotKey.encode({ svcId, tier, index });
    writeEntry(this.maps.slots, key, backendId.encode(backend), label);
    undo.add(() => (previous ? this.maps.slots.update(key, backendId.encode(previous)) : this.maps.slots.delete(key)));
  }

  /** Returns false when the undo was cut short (see unsettled). */
  private rollBack(undo: UndoLog): boolean {
    if (undo.run()) return true;
    this.undoFailures++;
    return false;
  }

  private retain(tiers: PackedTiers): void {
    // A loop, not forEachId(): no closure per call. (A bulk load counts references as it plans.)
    for (let i = tierStart(tiers, 0); i < tierEnd(tiers, MAX_TIERS - 1); i++) this.backends.retain(tiers[i]!);
  }

  /** Drops a service's references; returns the backends nobody names any more, forgotten here. */
  private release(tiers: PackedTiers): number[] {
    const orphans: number[] = [];
    forEachId(tiers, (id) => {
      if (!this.backends.release(id)) return;
      this.backends.remove(id);
      this.unsureBackends.delete(id);
      if (!this.heldBackends.has(id)) orphans.push(id);
    });
    return orphans;
  }

  /** What release() would return, without releasing. */
  private orphansOf(tiers: PackedTiers): number[] {
    const named = new Map<number, number>();
    forEachId(tiers, (id) => {
      if (id !== 0) named.set(id, (named.get(id) ?? 0) + 1);
    });
    return [...named]
      .filter(([id, n]) => this.backends.has(id) && this.backends.refs(id) <= n && !this.heldBackends.has(id))
      .map(([id]) => id);
  }
}

/**
 * Deletes entries no connect can reach any more. One that fails is an unreachable leftover that
 * drift repair collects; every key is tried, and the first failure (or `failed`) is returned.
 */
function sweep(map: BpfMap, keys: readonly Buffer[], failed?: unknown): unknown {
  for (const key of keys) {
    try {
      map.delete(key);
    } catch (error) {
      failed ??= error;
    }
  }
  return failed;
}

/**
 * What applyMany() hands back: services applied one by one as they went, a batch's services
 * built only when applied is first read.
 */
class BulkOutcome {
  readonly failed: Array<{ spec: ServiceSpec; error: Error }> = [];
  private readonly keys: string[] = [];
  private readonly applied: ProgrammedService[] = [];
  private batch: (() => ProgrammedService[]) | undefined;

  add(key: string, programmed: ProgrammedService): void {
    this.keys.push(key);
    this.applied.push(programmed);
  }

  addBatch(keys: readonly string[], build: () => ProgrammedService[]): void {
    // A loop, not push(...): spreading 80,000 keys as arguments can overflow the stack.
    for (const key of keys) this.keys.push(key);
    this.batch = build;
  }

  done(): BulkResult {
    const { keys, failed, applied, batch } = this;
    let built = batch === undefined;
    return {
      appliedKeys: keys,
      failed,
      get applied(): readonly ProgrammedService[] {
        // A loop, not push(...), as above.
        if (!built) for (const p of batch!()) applied.push(p);
        built = true;
        return applied;
      },
    };
  }
}

const NO_IDS: readonly number[] = [];

function nextId(id: number): number {
  return id >= 0xffffffff ? 1 : id + 1;
}
