/* Waiting for a lab to settle, the same way whichever control plane runs it. */
import type { AgentProcess } from './agent-process.js';
import { LabError } from './errors.js';
import { sleep } from './processes.js';
import type { AgentStatus, Settlement } from './status.js';

/** Until settled; throws on a problem that cannot resolve by itself, or at the deadline. */
export async function waitUntilSettled(settlement: () => Promise<Settlement>, timeoutMs: number, pollMs: number): Promise<Settlement> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await settlement();
    if (s.done) return s;
    if (s.problems.length > 0) throw new LabError('invalid', `the lab cannot get ready: ${s.problems.join('; ')}`);
    if (Date.now() > deadline) throw new LabError('timeout', `still waiting after ${timeoutMs} ms for: ${s.waiting.join('; ')}`);
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
