/*
 * Stage 5, report: the pass's result for metrics and readiness, and its problems in the log
 * (at warn the first time, at debug while a level-triggered pass keeps finding them).
 */
import { type MapOps, opsSince } from '../datapath/index.js';
import type { Rejection } from '../model/index.js';
import { nodeWarnings, type Warning } from '../planner/index.js';
import type { PassContext, PassWork } from './pass-context.js';
import type { PassDiff } from './pass-compare.js';
import type { Snapshot } from './pass-snapshot.js';
import type { PassWrites } from './pass-write.js';
import { countCodes } from './count-codes.js';
import type { ReconcileResult, ServiceFailure } from './types.js';

/** What the earlier stages found and did, and when each ended. */
export interface PassRecord {
  readonly trigger: string;
  readonly work: PassWork;
  readonly snapshot: Snapshot;
  readonly diff: PassDiff;
  readonly writes: PassWrites;
  readonly phasesMs: NonNullable<ReconcileResult['phasesMs']>;
  readonly startedMs: number;
  /** writer.mapOps() when the pass began. */
  readonly opsBefore: Readonly<Record<string, MapOps>>;
}

export function report(context: PassContext, pass: PassRecord): ReconcileResult {
  const { store, desired } = context.state;
  const conflicts: ServiceFailure[] = desired.conflicts().map((c) => ({
    service: c.service,
    key: c.key,
    code: 'vip-conflict',
    message: `${c.key} is already the VIP of ${c.owner}`,
  }));
  const failures = [...conflicts, ...context.state.failures.values()];
  const rejected = store.rejected();
  const warnings = [...nodeWarnings(store.snapshot, context.nodeName), ...desired.warnings()];
  logProblems(context, rejected, warnings, failures);
  const totals = context.writer.totals();
  const { applied, removed } = pass.writes;
  const result: ReconcileResult = {
    completed: true,
    trigger: pass.trigger,
    full: pass.work.kind === 'full',
    replanned: pass.snapshot.dirty.size,
    finishedAtMs: Date.now(),
    durationMs: performance.now() - pass.startedMs,
    phasesMs: pass.phasesMs,
    desired: desired.size,
    desiredServices: desired.interceptedServices,
    applied,
    removed,
    unchanged: pass.diff.unchanged,
    failures,
    servicesByMode: totals.servicesByMode,
    endpointsByModeTier: totals.endpointsByModeTier,
    rejected: countCodes(rejected),
    warnings: countCodes(warnings),
    mapWrites: pass.writes.mapWrites,
    mapErrors: pass.writes.mapErrors,
    ...(pass.snapshot.drift ? { driftRepaired: pass.snapshot.drift } : {}),
    mapOps: opsSince(pass.opsBefore, context.writer.mapOps()),
  };
  const level = applied + removed + failures.length > 0 ? 'info' : 'debug';
  context.logger[level](
    {
      trigger: pass.trigger,
      kind: pass.work.kind,
      planned: pass.snapshot.dirty.size,
      desired: result.desired,
      applied,
      removed,
      unchanged: result.unchanged,
      failed: failures.length,
      rejected: rejected.length,
      durationMs: Math.round(result.durationMs * 10) / 10,
    },
    'reconciled',
  );
  return result;
}

function logProblems(
  context: PassContext,
  rejected: readonly Rejection[],
  warnings: readonly Warning[],
  failures: readonly ServiceFailure[],
): void {
  const { reported } = context.state;
  const now = new Set<string>();
  const log = (id: string, fields: Record<string, unknown>, message: string): void => {
    now.add(id);
    const level = reported.has(id) ? 'debug' : 'warn';
    context.logger[level](fields, message);
  };
  for (const r of rejected) {
    const fields = { kind: r.kind, object: r.name, index: r.index, reason: r.code, detail: r.message };
    log(`r|${r.kind}|${r.name}|${r.message}`, fields, 'object rejected');
  }
  for (const w of warnings) {
    log(`w|${w.kind}|${w.name}|${w.message}`, { kind: w.kind, object: w.name, reason: w.code, detail: w.message }, 'planner warning');
  }
  for (const f of failures) {
    const fields = { service: f.service, key: f.key, reason: f.code, map: f.map, detail: f.message };
    log(`f|${f.key}|${f.message}`, fields, 'service not programmed');
  }
  reported.clear();
  for (const id of now) reported.add(id);
}
