/*
 * Stage 2, plan: each dirty Service planned again and turned into desired specs at once:
 * holding ten thousand plans until the end would only raise the agent's peak memory. On the
 * first pass, node ids a previous agent wrote are kept, so a restart does not renumber every
 * backend (and rewrite it just for that).
 */
import { planOne } from '../planner/index.js';
import type { PassContext, PassWork } from './pass-context.js';

/** Returns the datapath keys whose desired spec may have changed. */
export function planServices(context: PassContext, work: PassWork, dirty: ReadonlySet<string>): Set<string> {
  const { store, desired, nodeIds } = context.state;
  // Only programmed services name programmed backends (the writer deletes the others on open), so
  // with none there is nothing to adopt, and asking for every planned endpoint is wasted work.
  const adopt = work.kind === 'full' && work.first && !context.writer.keys().next().done;
  const programmedNodeId = (address: string, port: number): number | undefined => context.writer.nodeIdOf(address, port);
  const touched = new Set<string>();
  for (const key of dirty) {
    const plan = planOne(store.snapshot, context.nodeName, key, context.planOptions);
    if (adopt && plan.outcome?.planned) nodeIds.adoptFrom(plan.outcome.planned, programmedNodeId);
    desired.set(key, plan, nodeIds, touched);
  }
  return touched;
}
