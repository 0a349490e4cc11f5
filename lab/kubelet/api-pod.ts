/*
 * An API server's Pod as the lab's runtime needs it: identity, containers (image -> program),
 * owner. Pure, so the mapping is tested without a cluster.
 */
import { readApplied } from '../objects.js';
import type { PodIdentity } from '../pod-runtime.js';

export interface ApiPod {
  readonly metadata: {
    readonly name: string;
    readonly namespace: string;
    readonly uid: string;
    readonly labels?: Record<string, string>;
    readonly deletionTimestamp?: string;
    readonly resourceVersion?: string;
    readonly creationTimestamp?: string;
    readonly ownerReferences?: ReadonlyArray<{ readonly kind: string; readonly name: string; readonly controller?: boolean }>;
  };
  readonly spec: Record<string, unknown> & { readonly nodeName?: string; readonly terminationGracePeriodSeconds?: number };
  readonly status?: {
    readonly phase?: string;
    readonly podIP?: string;
    readonly conditions?: ReadonlyArray<{
      readonly type: string;
      readonly status: string;
      readonly reason?: string;
      readonly message?: string;
    }>;
    readonly containerStatuses?: ReadonlyArray<{ readonly restartCount?: number }>;
  };
}

export const podKey = (pod: ApiPod): string => `${pod.metadata.namespace}/${pod.metadata.name}`;

/** The Deployment behind a ReplicaSet owner, by the pod-template-hash suffix the controller adds. */
function ownerOf(pod: ApiPod): PodIdentity['owner'] {
  const rs = pod.metadata.ownerReferences?.find((o) => o.kind === 'ReplicaSet' && o.controller !== false);
  if (!rs) return undefined;
  const hash = pod.metadata.labels?.['pod-template-hash'];
  const deployment = hash && rs.name.endsWith(`-${hash}`) ? rs.name.slice(0, -hash.length - 1) : rs.name;
  return { kind: 'ReplicaSet', name: rs.name, deployment };
}

/** The runtime identity of an API pod; throws a LabError naming the pod when it cannot run here (an unknown image, say). */
export function podIdentity(pod: ApiPod): PodIdentity {
  const { metadata } = pod;
  const applied = readApplied(
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: metadata.name, namespace: metadata.namespace, labels: metadata.labels ?? {} },
      spec: pod.spec,
    },
    `pod ${podKey(pod)}`,
    metadata.namespace,
  );
  if (applied.kind !== 'Pod') throw new Error(`unexpected ${applied.kind}`);
  const owner = ownerOf(pod);
  const hash = metadata.labels?.['pod-template-hash'];
  return {
    namespace: metadata.namespace,
    name: metadata.name,
    uid: metadata.uid,
    labels: { ...(metadata.labels ?? {}) },
    containers: applied.spec.containers,
    rawSpec: pod.spec,
    ...(owner ? { owner } : {}),
    ...(hash ? { templateHash: hash } : {}),
    terminationGraceSeconds: pod.spec.terminationGracePeriodSeconds ?? 30,
    createdAt: metadata.creationTimestamp ?? new Date().toISOString(),
  };
}
