/*
 * Stage 3, compare: the keys that may differ, each desired spec against the writer's account of
 * what is programmed. Only a real difference leads to a write (datapath's programmedAs decides).
 */
import type { PassContext, PassWork, WantedSpec } from './pass-context.js';

export interface PassDiff {
  readonly added: readonly WantedSpec[];
  readonly changed: readonly WantedSpec[];
  /** Key text of programmed services nothing wants any more. */
  readonly removed: readonly string[];
  readonly unchanged: number;
}

export function compare(context: PassContext, work: PassWork, touched: Set<string>): PassDiff {
  const { writer, state } = context;
  const { desired } = state;
  if (work.kind === 'full') {
    for (const key of desired.keys()) touched.add(key);
    for (const key of writer.keys()) touched.add(key);
    if (work.everything) state.nodeIds.retainIds(desired.nodeIds());
  }
  for (const key of state.failures.keys()) touched.add(key);

  const added: WantedSpec[] = [];
  const changed: WantedSpec[] = [];
  const removed: string[] = [];
  for (const key of touched) {
    const want = desired.get(key);
    const have = writer.keyOf(key);
    // The label follows the owning Service even when nothing has to be written.
    if (want && have) writer.relabel(have, want.service);
    if (want && !have) added.push({ key, ...want });
    else if (want && have && !writer.matches(want.spec)) changed.push({ key, ...want });
    else if (!want && have) removed.push(key);
    else state.failures.delete(key);
  }
  return { added, changed, removed, unchanged: desired.size - added.length - changed.length };
}
