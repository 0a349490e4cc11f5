/* Waiting for a lab to settle, the same way whichever control plane runs it. */
import type { AgentProcess } from './agent-process.js';
import { LabError } from './errors.js';
import { sleep } from './processes.js';
import type { AgentStatus, Settlement } from './status.js';

/**
 * How long a node may stay "stuck" (below) before a wait gives up on it: long enough for the
 * agent's next pass to pick up a change that frees room, far shorter than any wait.
 */
export const STUCK_MS = 3_000;
/** Items of a timeout message shown, and characters of each: the message stays one readable line. */
const SHOWN_ITEMS = 3;
const ITEM_CHARS = 240;

/** One node as the settlement sees it after pods and agents are ready. */
export interface NodeProgramming {
  readonly node: string;
  readonly agent: AgentStatus;
  /** Services planned for the node with an entry not programmed (convergence.ts). */
  readonly notProgrammed: readonly string[];
}

/**
 * Nodes whose agent has tried and refused planned Services: it is ready and its /readyz says
 * some are "not programmed" (cmd/agent/readiness.ts words it so, naming a full map), and the
 * node's maps indeed lack them. That does not resolve by itself, so a wait stops on it with one
 * line per cause: the nodes, the Services it cost, the agent's reason, and the lab's map sizes.
 */
export function stuckNodes(nodes: readonly NodeProgramming[], mapSizes: string): string[] {
  const byCause = new Map<string, string[]>();
  for (const n of nodes) {
    if (!n.agent.ready || n.notProgrammed.length === 0 || !/\bnot programmed\b/.test(n.agent.reason)) continue;
    const services = n.notProgrammed;
    const shown = services.length > 5 ? `${services.slice(0, 5).join(', ')} and ${services.length - 5} more` : services.join(', ');
    const cause =
      `${services.length} planned Service${services.length === 1 ? '' : 's'} not programmed (${shown}); ` +
      `agent: ${n.agent.reason}; the lab's agents run with ${mapSizes} (docs/nearbyctl.md, "Map sizes")`;
    byCause.set(cause, [...(byCause.get(cause) ?? []), n.node]);
  }
  return [...byCause].map(([cause, names]) => `node${names.length === 1 ? '' : 's'} ${names.join(', ')}: ${cause}`);
}

function shortList(items: readonly string[]): string {
  const shown = items.slice(0, SHOWN_ITEMS).map((i) => (i.length > ITEM_CHARS ? `${i.slice(0, ITEM_CHARS)}...` : i));
  return items.length > SHOWN_ITEMS ? `${shown.join('; ')}; and ${items.length - SHOWN_ITEMS} more` : shown.join('; ');
}

/** Until settled; throws on a problem that cannot resolve by itself, or at the deadline. */
export async function waitUntilSettled(settlement: () => Promise<Settlement>, timeoutMs: number, pollMs: number): Promise<Settlement> {
  const deadline = Date.now() + timeoutMs;
  let stuckSince: number | undefined;
  for (;;) {
    const s = await settlement();
    if (s.done) return s;
    if (s.problems.length > 0) throw new LabError('invalid', `the lab cannot get ready: ${s.problems.join('; ')}`);
    const stuck = s.stuck ?? [];
    stuckSince = stuck.length === 0 ? undefined : (stuckSince ?? Date.now());
    if (stuckSince !== undefined && Date.now() - stuckSince >= STUCK_MS)
      throw new LabError('invalid', `the lab cannot settle: ${stuck.join('; ')}`);
    if (Date.now() > deadline)
      throw new LabError('timeout', `still waiting after ${timeoutMs} ms for: ${shortList([...stuck, ...s.waiting])}`);
    await sleep(pollMs);
  }
}

export function agentStatus(agent: AgentProcess | undefined): AgentStatus {
  return {
    ...(agent?.ref ? { pid: agent.ref.pid, port: agent.ref.port } : {}),
    ready: agent?.ready ?? false,
    reason: agent?.reason ?? 'not started',
    restarts: agent?.restarts ?? 0,
  };
}
