/*
 * One level-triggered pass: objects -> snapshot -> plan -> specs, compared with what is
 * programmed, then only the differences are written. Synchronous, so two passes never overlap.
 *
 * A full pass re-reads every object, re-plans every Service and compares every key with the
 * writer's own account. An incremental pass applies the changes the source named and re-plans
 * only the Services that depend on them; everything it does not touch was already equal to the
 * plan after the previous pass, so the outcome is the same as a full pass, at the cost of the
 * change rather than of the cluster.
 */
import type { Logger } from 'pino';
import type { DriftReport } from '../datapath/drift.js';
import type { ModeName, ServiceKey, ServiceSpec } from '../datapath/types.js';
import type { RawChange, Rejection, SnapshotDelta, SnapshotStore } from '../model/index.js';
import { nodeWarnings, planOne, type PlanOptions, type Warning } from '../planner/index.js';
import { countCodes } from './count-codes.js';
import type { DesiredState } from './desired-state.js';
import { sameService } from './diff.js';
import { toFailure } from './failures.js';
import { NodeIds } from './node-ids.js';
import type { ProgrammedView } from './programmed-view.js';
import { serviceKeyText } from './translate-keys.js';
import type { ObjectProvider, ReconcileResult, ServiceFailure, ServiceWriterLike } from './types.js';

/** Services per bulk write on the first pass. */
const BULK_SLICE = 2_000;

/** What the reconciler keeps between passes. */
export interface PassState {
  readonly store: SnapshotStore;
  readonly desired: DesiredState;
  readonly programmed: ProgrammedView;
  readonly nodeIds: NodeIds;
  /** Keys whose last write failed: retried on every pass. */
  readonly failures: Map<string, ServiceFailure>;
  /** Service label ("ns/name") by key, kept across passes to name removals. */
  readonly labels: Map<string, string>;
  /** Problems already logged at warn level; repeats of a level-triggered pass go to debug. */
  readonly reported: Set<string>;
}

export interface PassContext {
  readonly source: ObjectProvider;
  readonly writer: ServiceWriterLike;
  readonly nodeName: string;
  readonly planOptions: Partial<PlanOptions>;
  readonly logger: Logger;
  readonly state: PassState;
}

export type PassWork =
  /** Re-read everything. `everything`: re-plan every Service, not just those whose objects changed. */
  | { readonly kind: 'full'; readonly everything: boolean; readonly first: boolean }
  | { readonly kind: 'changes'; readonly changes: readonly RawChange[] };

function logProblems(context: PassContext, rejected: readonly Rejection[], warnings: readonly Warning[], failures: readonly ServiceFailure[]): void {
  const { reported } = context.state;
  const now = new Set<string>();
  const report = (id: string, fields: Record<string, unknown>, message: string): void => {
    now.add(id);
    const level = reported.has(id) ? 'debug' : 'warn';
    context.logger[level](fields, message);
  };
  for (const r of rejected) {
    const fields = { kind: r.kind, object: r.name, index: r.index, reason: r.code, detail: r.message };
    report(`r|${r.kind}|${r.name}|${r.message}`, fields, 'object rejected');
  }
  for (const w of warnings) {
    report(`w|${w.kind}|${w.name}|${w.message}`, { kind: w.kind, object: w.name, reason: w.code, detail: w.message }, 'planner warning');
  }
  for (const f of failures) {
    const fields = { service: f.service, key: f.key, reason: f.code, map: f.map, detail: f.message };
    report(`f|${f.key}|${f.message}`, fields, 'service not programmed');
  }
  reported.clear();
  for (const id of now) reported.add(id);
}

function sameAsProgrammed(writer: ServiceWriterLike, spec: ServiceSpec, key: ServiceKey): boolean {
  if (writer.matches) return writer.matches(spec);
  const have = writer.get(key);
  return have !== undefined && sameService(spec, have);
}

function repairDrift(context: PassContext, repair: () => DriftReport): Record<string, number> {
  const report = repair();
  const counts: Record<string, number> = {};
  for (const [map, n] of [...Object.entries(report.rewritten), ...Object.entries(report.deleted)]) {
    if (n > 0) counts[map] = (counts[map] ?? 0) + n;
  }
  if (report.drifted.length + report.strays.length + report.failed.length > 0) {
    context.logger.warn(
      { drifted: report.drifted.slice(0, 20), strays: report.strays.slice(0, 20), failed: report.failed.map((f) => f.service), entries: counts },
      'maps had drifted from what this agent programmed; repaired',
    );
  }
  return counts;
}

/** Services whose plan may differ after `delta`. */
function affectedServices(context: PassContext, delta: SnapshotDelta): Set<string> | 'all' {
  if (delta.nodes.has(context.nodeName)) return 'all';
  const { store } = context.state;
  const dirty = new Set(delta.services);
  for (const node of delta.nodes) for (const s of store.servicesOnNode(node)) dirty.add(s);
  for (const ns of delta.namespaces) for (const s of store.servicesInNamespace(ns)) dirty.add(s);
  return dirty;
}

export function runPass(context: PassContext, trigger: string, work: PassWork): ReconcileResult {
  const started = performance.now();
  const { writer, state } = context;
  const { store, desired, programmed } = state;

  // 1. The snapshot, and which Services it may have changed.
  let dirty: Set<string> | 'all';
  let current: ReturnType<ServiceWriterLike['programmed']> | undefined;
  let drift: Record<string, number> | undefined;
  if (work.kind === 'full' && work.everything && !work.first && writer.repairDrift) {
    // A resync first puts the maps back to what the writer knows it wrote (someone may have
    // deleted or edited entries by hand), then compares that with the plan as usual.
    drift = repairDrift(context, writer.repairDrift.bind(writer));
  }
  if (work.kind === 'full') {
    const delta = store.rebuild(context.source.objects());
    dirty = work.everything ? 'all' : affectedServices(context, delta);
    current = writer.programmed();
    programmed.reset(current);
  } else {
    dirty = affectedServices(context, store.apply(work.changes));
  }
  if (dirty === 'all') dirty = new Set([...store.snapshot.services.keys(), ...desired.serviceKeys()]);
  const snapshotDone = performance.now();

  // 2. Plan them, and turn each plan into desired specs at once: holding ten thousand plans
  // until the end would only raise the agent's peak memory. On the first pass, node ids a
  // previous agent wrote are kept, so a restart does not renumber every backend.
  const adoptable = work.kind === 'full' && work.first ? NodeIds.programmedIds(current ?? []) : undefined;
  current = undefined;
  const touched = new Set<string>();
  for (const key of dirty) {
    const plan = planOne(store.snapshot, context.nodeName, key, context.planOptions);
    if (adoptable && plan.outcome?.planned) state.nodeIds.adoptFrom(plan.outcome.planned, adoptable);
    desired.set(key, plan, state.nodeIds, touched);
  }
  const planDone = performance.now();

  // 3. The keys to compare with what is programmed.
  if (work.kind === 'full') {
    for (const key of desired.keys()) touched.add(key);
    for (const key of programmed.keys()) touched.add(key);
    if (work.everything) state.nodeIds.retainIds(desired.nodeIds());
  }
  for (const key of state.failures.keys()) touched.add(key);

  // 4. Diff the touched keys against what is programmed.
  const added: Array<{ key: string; service: string; spec: ServiceSpec }> = [];
  const changed: Array<{ key: string; service: string; spec: ServiceSpec }> = [];
  const removed: string[] = [];
  for (const key of touched) {
    const want = desired.get(key);
    const haveKey = programmed.keyOf(key);
    if (want) state.labels.set(key, want.service);
    if (want && !haveKey) added.push({ key, ...want });
    else if (want && haveKey && !sameAsProgrammed(writer, want.spec, haveKey)) changed.push({ key, ...want });
    else if (!want && haveKey) removed.push(key);
    else state.failures.delete(key);
  }
  const unchanged = desired.size - added.length - changed.length;

  const diffDone = performance.now();

  // 5. Write: removals first (they free map room new services may need), then the rest.
  const mapErrors: Record<string, number> = {};
  const fail = (service: string, key: string, error: unknown): void => {
    const failure = toFailure(service, key, error);
    state.failures.set(key, failure);
    const map = failure.map ?? 'none';
    mapErrors[map] = (mapErrors[map] ?? 0) + 1;
  };
  let removedCount = 0;
  for (const key of removed) {
    try {
      if (writer.remove(programmed.keyOf(key)!)) removedCount++;
      programmed.record(key, undefined);
      state.failures.delete(key);
      state.labels.delete(key);
    } catch (error) {
      fail(state.labels.get(key) ?? '', key, error);
    }
  }
  let applied = 0;
  const applyOne = (d: { key: string; service: string; spec: ServiceSpec }): void => {
    try {
      programmed.record(d.key, writer.apply(d.spec));
      state.failures.delete(d.key);
      applied++;
    } catch (error) {
      fail(d.service, d.key, error);
    }
  };
  if (work.kind === 'full' && work.first && added.length > 0) {
    // In slices: a few more batch calls, but far less held in memory at once.
    for (let i = 0; i < added.length; i += BULK_SLICE) {
      const bulk = writer.applyMany(added.slice(i, i + BULK_SLICE).map((d) => d.spec));
      for (const p of bulk.applied) {
        const key = serviceKeyText(p.key);
        programmed.record(key, p);
        state.failures.delete(key);
        applied++;
      }
      for (const f of bulk.failed) fail(f.spec.label, serviceKeyText(f.spec.key), f.error);
    }
  } else {
    added.forEach(applyOne);
  }
  changed.forEach(applyOne);

  const writeDone = performance.now();

  // 6. Report.
  const conflicts: ServiceFailure[] = desired.conflicts().map((c) => ({
    service: c.service,
    key: c.key,
    code: 'vip-conflict',
    message: `${c.key} is already the VIP of ${c.owner}`,
  }));
  const failures = [...conflicts, ...state.failures.values()];
  const rejected = store.rejected();
  const warnings = [...nodeWarnings(store.snapshot, context.nodeName), ...desired.warnings()];
  logProblems(context, rejected, warnings, failures);
  const result: ReconcileResult = {
    completed: true,
    trigger,
    full: work.kind === 'full',
    replanned: dirty.size,
    finishedAtMs: Date.now(),
    durationMs: performance.now() - started,
    phasesMs: {
      snapshot: snapshotDone - started,
      plan: planDone - snapshotDone,
      diff: diffDone - planDone,
      write: writeDone - diffDone,
    },
    desired: desired.size,
    applied,
    removed: removedCount,
    unchanged,
    failures,
    servicesByMode: programmed.servicesByMode() as Partial<Record<ModeName, number>>,
    endpointsByModeTier: programmed.endpointsByModeTier(),
    rejected: countCodes(rejected),
    warnings: countCodes(warnings),
    mapWrites: programmed.takeWrites(),
    mapErrors,
    ...(drift ? { driftRepaired: drift } : {}),
  };
  const level = applied + removedCount + failures.length > 0 ? 'info' : 'debug';
  context.logger[level](
    {
      trigger,
      kind: work.kind,
      planned: dirty.size,
      desired: result.desired,
      applied,
      removed: removedCount,
      unchanged,
      failed: failures.length,
      rejected: rejected.length,
      durationMs: Math.round(result.durationMs * 10) / 10,
    },
    'reconciled',
  );
  return result;
}
