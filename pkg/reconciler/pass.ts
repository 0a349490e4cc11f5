/*
 * One level-triggered pass: objects -> snapshot -> plan -> specs, diffed against what is
 * programmed, then only the differences are written. Synchronous, so two passes never overlap.
 */
import type { Logger } from 'pino';
import type { ModeName, ProgrammedService } from '../datapath/types.js';
import { buildSnapshot, type Rejection } from '../model/index.js';
import { plan, type PlanOptions, type Warning } from '../planner/index.js';
import { diffServices } from './diff.js';
import { toFailure } from './failures.js';
import type { NodeIds } from './node-ids.js';
import { countBy, rejectionReason, warningReason } from './reasons.js';
import { translatePlan } from './translate.js';
import { serviceKeyText } from './translate-keys.js';
import type { ObjectProvider, ReconcileResult, ServiceFailure, ServiceWriterLike } from './types.js';
import { WriteCounter } from './write-counts.js';

export interface PassContext {
  readonly source: ObjectProvider;
  readonly writer: ServiceWriterLike;
  readonly nodeName: string;
  readonly planOptions: Partial<PlanOptions>;
  readonly nodeIds: NodeIds;
  readonly logger: Logger;
  /** No pass has completed yet: new services go through one bulk write. */
  readonly first: boolean;
  /** Service label ("ns/name") by serviceKeyText, kept across passes to name removals. */
  readonly labels: Map<string, string>;
  /** Problems already logged at warn level; repeats of a level-triggered pass go to debug. */
  readonly reported: Set<string>;
}

function logProblems(context: PassContext, rejected: readonly Rejection[], warnings: readonly Warning[], failures: readonly ServiceFailure[]): void {
  const now = new Set<string>();
  const report = (id: string, fields: Record<string, unknown>, message: string): void => {
    now.add(id);
    const level = context.reported.has(id) ? 'debug' : 'warn';
    context.logger[level](fields, message);
  };
  for (const r of rejected) {
    report(`r|${r.kind}|${r.name}|${r.reason}`, { kind: r.kind, object: r.name, index: r.index, reason: rejectionReason(r), detail: r.reason }, 'object rejected');
  }
  for (const w of warnings) {
    report(`w|${w.kind}|${w.name}|${w.message}`, { kind: w.kind, object: w.name, reason: warningReason(w), detail: w.message }, 'planner warning');
  }
  for (const f of failures) {
    report(`f|${f.key}|${f.message}`, { service: f.service, key: f.key, reason: f.reason, map: f.map, detail: f.message }, 'service not programmed');
  }
  context.reported.clear();
  for (const id of now) context.reported.add(id);
}

function summarize(programmed: readonly ProgrammedService[]): Pick<ReconcileResult, 'servicesByMode' | 'endpointsByModeTier'> {
  const servicesByMode: Partial<Record<ModeName, number>> = {};
  const endpointsByModeTier: Partial<Record<ModeName, number[]>> = {};
  for (const s of programmed) {
    servicesByMode[s.mode] = (servicesByMode[s.mode] ?? 0) + 1;
    const tiers = (endpointsByModeTier[s.mode] ??= []);
    s.tiers.forEach((tier, t) => {
      tiers[t] = (tiers[t] ?? 0) + tier.length;
    });
  }
  return { servicesByMode, endpointsByModeTier };
}

export function runPass(context: PassContext, trigger: string): ReconcileResult {
  const started = performance.now();
  const { writer } = context;
  const { snapshot, rejected } = buildSnapshot(context.source.objects());
  const nodePlan = plan(snapshot, context.nodeName, context.planOptions);

  const before = writer.programmed();
  if (context.first) context.nodeIds.adopt(nodePlan, before);
  const { desired, conflicts, nodes } = translatePlan(nodePlan, context.nodeIds);
  context.nodeIds.retainOnly(nodes);
  const diff = diffServices(desired, before);

  const failures: ServiceFailure[] = conflicts.map((c) => ({
    service: c.service,
    key: c.key,
    reason: 'vip-conflict',
    message: `${c.key} is already the VIP of ${c.owner}`,
  }));
  const writes = new WriteCounter(before);
  const mapErrors: Record<string, number> = {};
  const fail = (service: string, key: string, error: unknown): void => {
    const failure = toFailure(service, key, error);
    failures.push(failure);
    const map = failure.map ?? 'none';
    mapErrors[map] = (mapErrors[map] ?? 0) + 1;
  };

  // Removals first: they free map room that new services may need.
  let removed = 0;
  for (const old of diff.removed) {
    const key = serviceKeyText(old.key);
    try {
      if (writer.remove(old.key)) removed++;
      writes.removed(old);
    } catch (error) {
      fail(context.labels.get(key) ?? '', key, error);
    }
  }

  let applied = 0;
  const previous = new Map(diff.changed.map((c) => [c.id, c.before]));
  const applyOne = (d: (typeof desired)[number]): void => {
    try {
      writes.applied(previous.get(d.id), writer.apply(d.spec));
      applied++;
    } catch (error) {
      fail(d.spec.label, d.id, error);
    }
  };
  if (context.first && diff.added.length > 0) {
    const bulk = writer.applyMany(diff.added.map((d) => d.spec));
    for (const p of bulk.applied) {
      writes.applied(undefined, p);
      applied++;
    }
    for (const f of bulk.failed) fail(f.spec.label, serviceKeyText(f.spec.key), f.error);
  } else {
    diff.added.forEach(applyOne);
  }
  diff.changed.forEach(applyOne);

  for (const d of desired) context.labels.set(d.id, d.spec.label);
  for (const old of diff.removed) {
    const key = serviceKeyText(old.key);
    if (!failures.some((f) => f.key === key)) context.labels.delete(key);
  }

  logProblems(context, rejected, nodePlan.warnings, failures);
  const result: ReconcileResult = {
    completed: true,
    trigger,
    finishedAtMs: Date.now(),
    durationMs: performance.now() - started,
    desired: desired.length,
    applied,
    removed,
    unchanged: diff.unchanged,
    failures,
    ...summarize(writer.programmed()),
    rejected: countBy(rejected, rejectionReason),
    warnings: countBy(nodePlan.warnings, warningReason),
    mapWrites: writes.totals(),
    mapErrors,
  };
  const level = applied + removed + failures.length > 0 ? 'info' : 'debug';
  context.logger[level](
    { trigger, desired: result.desired, applied, removed, unchanged: result.unchanged, failed: failures.length, rejected: rejected.length, durationMs: Math.round(result.durationMs * 10) / 10 },
    'reconciled',
  );
  return result;
}
