/*
 * Picks a node for a pod, as kube-scheduler would for the lab's needs: nodeName binds directly;
 * otherwise nodeSelector, required node affinity and taints filter, and the pod goes where its
 * owner has the fewest pods (spreading replicas), then where fewest pods run, then by name.
 */
import { CONTROL_PLANE_LABEL } from './kind-config.js';
import type { Labels, PodSpec, Toleration } from './objects.js';
import { matchesExpression, matchesLabels } from './selectors.js';

export interface Taint {
  readonly key: string;
  readonly value: string;
  readonly effect: 'NoSchedule' | 'NoExecute' | 'PreferNoSchedule';
}

export interface CandidateNode {
  readonly name: string;
  readonly labels: Labels;
  readonly taints: readonly Taint[];
  readonly pods: number;
  /** Pods of the same owner (Deployment) already there. */
  readonly siblings: number;
}

export type Choice = { readonly node: string } | { readonly unschedulable: string };

/** kind keeps the control-plane taint only when the cluster has workers. */
export function taintsOf(role: 'control-plane' | 'worker', clusterHasWorkers: boolean): Taint[] {
  return role === 'control-plane' && clusterHasWorkers ? [{ key: CONTROL_PLANE_LABEL, value: '', effect: 'NoSchedule' }] : [];
}

function tolerates(tolerations: readonly Toleration[], taint: Taint): boolean {
  return tolerations.some((t) => {
    if (t.effect && t.effect !== taint.effect) return false;
    if (t.operator === 'Exists') return t.key === undefined || t.key === taint.key;
    return t.key === taint.key && (t.value ?? '') === taint.value;
  });
}

export function schedule(spec: PodSpec, nodes: readonly CandidateNode[]): Choice {
  if (spec.nodeName !== undefined) {
    return nodes.some((n) => n.name === spec.nodeName)
      ? { node: spec.nodeName }
      : { unschedulable: `node ${JSON.stringify(spec.nodeName)} does not exist` };
  }
  let tainted = 0;
  let unmatched = 0;
  const fitting = nodes.filter((node) => {
    const affinity =
      spec.affinityTerms.length === 0 || spec.affinityTerms.some((term) => term.every((e) => matchesExpression(e, node.labels)));
    if (!matchesLabels(spec.nodeSelector, node.labels) || !affinity) {
      unmatched++;
      return false;
    }
    const blocking = node.taints.filter((t) => t.effect !== 'PreferNoSchedule' && !tolerates(spec.tolerations, t));
    if (blocking.length > 0) {
      tainted++;
      return false;
    }
    return true;
  });
  const best = [...fitting].sort((a, b) => a.siblings - b.siblings || a.pods - b.pods || (a.name < b.name ? -1 : 1))[0];
  if (best) return { node: best.name };
  const reasons = [
    ...(tainted > 0 ? [`${tainted} node(s) had untolerated taint {${CONTROL_PLANE_LABEL}: }`] : []),
    ...(unmatched > 0 ? [`${unmatched} node(s) didn't match Pod's node affinity/selector`] : []),
  ];
  return { unschedulable: `0/${nodes.length} nodes are available: ${reasons.join(', ')}` };
}
