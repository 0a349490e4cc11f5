/*
 * One level-triggered pass, in five stages, each in a file of its own:
 *   snapshot (pass-snapshot.ts) -> plan (pass-plan.ts) -> compare (pass-compare.ts)
 *   -> write (pass-write.ts) -> report (pass-report.ts).
 * Synchronous, so two passes never overlap.
 *
 * A full pass re-reads every object, re-plans every Service and compares every key with the
 * writer's account. An incremental pass applies the changes the source named and re-plans only
 * the Services that depend on them; everything it does not touch was already equal to the plan
 * after the previous pass, so the outcome is the same as a full pass, at the cost of the change
 * rather than of the cluster.
 */
import type { PassContext, PassWork } from './pass-context.js';
import { compare } from './pass-compare.js';
import { planServices } from './pass-plan.js';
import { report } from './pass-report.js';
import { takeSnapshot } from './pass-snapshot.js';
import { write } from './pass-write.js';
import type { ReconcileResult } from './types.js';

export type { PassContext, PassState, PassWork } from './pass-context.js';

export function runPass(context: PassContext, trigger: string, work: PassWork): ReconcileResult {
  const opsBefore = context.writer.mapOps();
  const startedMs = performance.now();
  const snapshot = takeSnapshot(context, work);
  const snapshotDone = performance.now();
  const touched = planServices(context, work, snapshot.dirty);
  const planDone = performance.now();
  const diff = compare(context, work, touched);
  const compareDone = performance.now();
  const writes = write(context, work, diff);
  const writeDone = performance.now();
  const phasesMs = {
    snapshot: snapshotDone - startedMs,
    plan: planDone - snapshotDone,
    compare: compareDone - planDone,
    write: writeDone - compareDone,
  };
  return report(context, { trigger, work, snapshot, diff, writes, phasesMs, startedMs, opsBefore });
}
