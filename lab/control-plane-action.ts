/*
 * The `control-plane` request of a lab on a real control plane: an apiserver outage, its end, or
 * an etcd compaction at a moment the caller picks. Outage and 410 Gone tests need them on cue;
 * killing the apiserver from outside would leave the lab's ControlPlane believing it still runs.
 */
import { LabError } from './errors.js';

export const CONTROL_PLANE_ACTIONS = ['stop-apiserver', 'start-apiserver', 'compact-etcd'] as const;
export type ControlPlaneAction = (typeof CONTROL_PLANE_ACTIONS)[number];

export interface ControlPlaneActionResult {
  readonly action: ControlPlaneAction;
  /** How long the action took in the supervisor (for start-apiserver: until /readyz answered). */
  readonly ms: number;
  /** start-apiserver: the new apiserver's pid (lab.json records it too). */
  readonly apiserverPid?: number;
  /** compact-etcd: the revision etcd is now compacted to; older resourceVersions answer 410. */
  readonly revision?: number;
}

export function parseControlPlaneAction(value: unknown): ControlPlaneAction {
  if (typeof value === 'string' && (CONTROL_PLANE_ACTIONS as readonly string[]).includes(value)) return value as ControlPlaneAction;
  throw new LabError('usage', `control-plane: action must be one of ${CONTROL_PLANE_ACTIONS.join(', ')}, got ${JSON.stringify(value)}`);
}
