/*
 * Which pod, container and environment `lab exec` enters, from the pods the lab runs.
 */
import { LabError } from './errors.js';
import { deletableKind } from './applied-objects.js';
import type { PodPlacement, PodRuntime } from './pod-runtime.js';
import type { ExecTarget } from './status.js';
import { isReady } from './views.js';

/** `POD`, `pod/POD` or `deployment/NAME` (a ready pod of it, as kubectl exec picks one), running. */
export function runningPodIn(pods: readonly PodRuntime[], namespace: string, target: string): PodRuntime & { placement: PodPlacement } {
  const [kindText, name] = target.includes('/') ? (target.split('/', 2) as [string, string]) : ['pod', target];
  let pod: PodRuntime | undefined;
  if (deletableKind(kindText) === 'Deployment') {
    const owned = pods.filter((p) => !p.terminating && p.id.namespace === namespace && p.id.owner?.deployment === name);
    pod = owned.find((p) => isReady(p.view())) ?? owned[0];
    if (!pod) throw new LabError('not-found', `deployment ${namespace}/${name} has no pods`);
  } else if (deletableKind(kindText) === 'Pod') {
    pod = pods.find((p) => p.key === `${namespace}/${name}` && !p.terminating) ?? pods.find((p) => p.key === `${namespace}/${name}`);
    if (!pod) throw new LabError('not-found', `pods "${name}" not found in namespace "${namespace}"`);
  } else {
    throw new LabError('usage', `cannot exec into ${target}: name a pod or deployment/NAME`);
  }
  const placement = pod.placement;
  if (!placement || pod.view().phase !== 'Running')
    throw new LabError('conflict', `pod ${pod.key} is not running (${pod.view().reason ?? pod.view().phase})`);
  return pod as PodRuntime & { placement: PodPlacement };
}

/** Where `lab exec` runs: the pod's namespace and cgroup, and the container's environment. */
export function execTargetIn(pods: readonly PodRuntime[], namespace: string, target: string, containerName?: string): ExecTarget {
  const pod = runningPodIn(pods, namespace, target);
  const placement = pod.placement;
  const container = containerName === undefined ? pod.id.containers[0] : pod.id.containers.find((c) => c.name === containerName);
  if (!container)
    throw new LabError(
      'not-found',
      `container ${containerName} is not valid for pod ${pod.key} (containers: ${pod.id.containers.map((c) => c.name).join(', ')})`,
    );
  const env = Object.fromEntries(Object.entries(pod.env(container)).filter((e): e is [string, string] => typeof e[1] === 'string'));
  return {
    namespace: pod.id.namespace,
    name: pod.id.name,
    netns: placement.link.netns,
    cgroup: placement.cgroup,
    env,
    containers: pod.id.containers.map((c) => c.name),
  };
}
