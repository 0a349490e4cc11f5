/*
 * "Converged": a node's pinned maps hold exactly what the planner says that node should hold for
 * the objects the lab last published. Read from the kernel, not from the agent, so it is true
 * only when connects really go where the plan says. The lab's commands wait for it, which makes
 * each step of a demo deterministic: when `lab delete` returns, every node has failed over.
 */
import { buildSnapshot } from '../pkg/model/index.js';
import { plan, type Plan } from '../pkg/planner/index.js';
import type { PinnedState } from '../pkg/datapath/index.js';

type ReadPinned = (pinRoot: string) => PinnedState;
let readPinned: ReadPinned | undefined;

/** libbpf is loaded on first use only: the CLI never needs it. */
async function pinnedReader(): Promise<ReadPinned> {
  readPinned ??= (await import('../pkg/datapath/index.js')).readPinnedState;
  return readPinned;
}

function trimTiers(tiers: string[][]): string[][] {
  const out = [...tiers];
  while (out.length > 0 && out[out.length - 1]?.length === 0) out.pop();
  return out;
}

function plannedView(p: Plan): Map<string, string> {
  const view = new Map<string, string>();
  for (const service of p.services) {
    for (const entry of service.entries) {
      const tiers = entry.tiers.map((t) => t.endpoints.map((e) => `${e.address}:${e.port}${e.terminating ? '~' : ''}`).sort());
      view.set(`${entry.vip}:${entry.port}/${entry.protocol}`, JSON.stringify({ mode: service.mode, tiers: trimTiers(tiers) }));
    }
  }
  return view;
}

function pinnedView(state: PinnedState): Map<string, string> {
  const view = new Map<string, string>();
  for (const service of state.services) {
    const tiers = service.tiers.map((t) => t.map((b) => `${b.address}:${b.port}${b.terminating ? '~' : ''}`).sort());
    view.set(
      `${service.key.address}:${service.key.port}/${service.key.protocol}`,
      JSON.stringify({ mode: service.mode, tiers: trimTiers(tiers) }),
    );
  }
  return view;
}

export interface NodeConvergence {
  readonly node: string;
  readonly converged: boolean;
  /** The first difference found, for messages. */
  readonly difference?: string;
}

export async function nodeConvergence(
  objects: readonly unknown[],
  node: string,
  pinRoot: string,
  preferCloseMeaning: 'subzone' | 'zone',
): Promise<NodeConvergence> {
  const read = await pinnedReader();
  const want = plannedView(plan(buildSnapshot(objects).snapshot, node, { preferCloseMeaning }));
  let have: Map<string, string>;
  try {
    have = pinnedView(read(pinRoot));
  } catch (error) {
    return { node, converged: false, difference: `maps not readable: ${(error as Error).message}` };
  }
  for (const [key, value] of want) {
    const programmed = have.get(key);
    if (programmed !== value) return { node, converged: false, difference: `${key}: want ${value}, have ${programmed ?? 'nothing'}` };
  }
  for (const key of have.keys()) if (!want.has(key)) return { node, converged: false, difference: `${key}: programmed but not planned` };
  return { node, converged: true };
}
