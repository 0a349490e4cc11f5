/*
 * Ready means: the source has synced, and a reconcile pass has since run to the end and
 * programmed the datapath. A single Service that failed does not make the node unready (that
 * would take the whole DaemonSet down for one object); it shows in metrics and logs instead.
 *
 * This node missing from the cluster's Nodes does make it unready, while the datapath is still
 * programmed: without its labels no endpoint can be ranked close except those naming this node,
 * so everything else shares the farthest tier (plain spreading, as with no preference at all).
 * That keeps Services working, but it is nearly always a wrong --node-name/NODE_NAME, and a
 * DaemonSet that never becomes ready is how an operator notices (Cilium waits for its Node too).
 *
 * Losing the API server after that makes the node unready too, but changes nothing programmed:
 * connects keep using the last state, and the reason says so. The agent is ready again once its
 * watches work.
 *
 * The counts use `nearbyctl plan`'s words (pkg/planner's plan-words): Services intercepted, and
 * the VIP:port entries they make, never one called the other.
 *
 * A remote cluster (docs/multi-cluster.md) that is stale or whose Secret is refused does not make
 * the node unready: the reason names it, as the source's `degraded` says.
 */
import type { Readiness } from '../../pkg/metrics/index.js';
import { interceptedText, notProgrammedText } from '../../pkg/planner/index.js';
import type { ReconcileResult } from '../../pkg/reconciler/index.js';
import type { SourceStatus } from '../../pkg/source/index.js';

export function readiness(
  nodeName: string,
  source: SourceStatus | undefined,
  startError: string | undefined,
  completed: ReconcileResult | undefined,
): Readiness {
  if (startError) return { ready: false, reason: startError };
  if (!source) return { ready: false, reason: 'starting' };
  if (!completed) {
    if (!source.synced) return { ready: false, reason: `waiting for the first sync${source.message ? `: ${source.message}` : ''}` };
    return { ready: false, reason: 'synced; waiting for the first program of the datapath' };
  }
  if (source.message) return { ready: false, reason: `${source.message}; connects keep the last programmed datapath` };
  if ((completed.warnings['unknown-client-node'] ?? 0) > 0) {
    return {
      ready: false,
      reason:
        `node ${nodeName} is not among the cluster's Nodes (check --node-name/NODE_NAME); ${interceptedText(completed.desiredServices, completed.desired)} ` +
        'programmed without locality: only endpoints that name this node rank close, all others share the farthest tier',
    };
  }
  const failed = completed.failures.length;
  const failedServices = new Set(completed.failures.map((f) => f.service)).size;
  // The cause in words a user can act on: which map is full, or the failure code.
  const causes = [...new Set(completed.failures.map((f) => (f.code === 'map-full' && f.map ? `map "${f.map}" is full` : f.code)))];
  const note = failed > 0 ? `, ${notProgrammedText(failedServices, failed)}: ${causes.join(', ')} (see nearby_services_failed)` : '';
  // A stale or refused remote cluster leaves the node ready: its last known endpoints stay in use.
  const remotes = source.degraded ? `; ${source.degraded}` : '';
  return { ready: true, reason: `${interceptedText(completed.desiredServices, completed.desired)}${note}${remotes}` };
}
