/*
 * `nearbyctl explain`'s fail-open part (docs/concepts.md, "Fail-open when the agent is gone"):
 * whether the node's datapath stops rewriting when its agent is gone, after how long, how old the
 * heartbeat is, and whether it does so now, for each of the Service's programmed ports.
 */
import type { PinnedState } from '../../pkg/datapath/index.js';
import { serviceKeyText } from '../../pkg/datapath/index.js';
import type { Service } from '../../pkg/model/index.js';

function seconds(ms: number): string {
  return ms >= 10_000 || ms % 1000 === 0 ? `${Math.round(ms / 1000)}s` : `${(ms / 1000).toFixed(1)}s`;
}

/** The node's fail-open state in one line, for `explain` and `maps`. */
export function failOpenHeadline(state: PinnedState): string {
  const status = state.failOpen;
  if (!status) return 'fail-open: not available (the pins predate it: no control map), so connects stay rewritten while the agent is gone';
  if (status.afterMs === 0)
    return 'fail-open: off (the agent runs without --fail-open-after), so connects stay rewritten however long the agent is gone';
  const age = status.heartbeatAgeMs === undefined ? 'never written' : `${seconds(status.heartbeatAgeMs)} old`;
  return status.inEffect
    ? `fail-open: IN EFFECT: the heartbeat is ${age}, past the ${seconds(status.afterMs)} bound (the agent is gone or stuck), ` +
        'so connects to Services nearby does not claim go to the VIP as dialled, to kube-proxy where it runs'
    : `fail-open: after ${seconds(status.afterMs)} without a heartbeat (--fail-open-after); the heartbeat is ${age}, so not in effect`;
}

/** Whether connects to this programmed service go to the VIP as dialled now (fail-open in effect, not claimed). */
export function failingOpenNow(state: PinnedState, id: string): boolean {
  return state.failOpen?.inEffect === true && !state.claimed?.has(id);
}

/** The lines for one Service (undefined: not in the cluster's objects) against the node's pins. */
export function failOpenLines(service: Service | undefined, state: PinnedState): string[] {
  const status = state.failOpen;
  const lines = [failOpenHeadline(state)];
  if (!status || status.afterMs === 0) return lines;
  const vips = new Set(service?.clusterIPs.map((ip) => ip.address) ?? []);
  for (const programmed of state.services.filter((s) => vips.has(s.key.address))) {
    const id = serviceKeyText(programmed.key);
    if (state.claimed?.has(id)) lines.push(`  ${id}: claimed by nearby alone (its own service-proxy-name), so never failed open`);
    else lines.push(status.inEffect ? `  ${id}: NOT rewritten now` : `  ${id}: fails open once the heartbeat is older than the bound`);
  }
  return lines;
}
