/*
 * When a lab on a real control plane has settled: every Deployment rolled out and ready, no pod
 * terminating or left behind by a deleted Deployment (garbage collection pending), pod status reported,
 * each Service's EndpointSlices naming exactly its ready pods,
 * and every node's pinned maps holding what the planner computes from the API's objects.
 * Pure over lists read from the API server, so each rule is tested without a cluster.
 */
import { ENDPOINTSLICE_CONTROLLER, MANAGED_BY_LABEL } from '../endpoint-slices.js';
import type { ApiPod } from './api-pod.js';

type Raw = Record<string, unknown>;

export interface ApiLists {
  readonly deployments: readonly Raw[];
  readonly replicaSets: readonly Raw[];
  readonly pods: ReadonlyArray<
    ApiPod & {
      status?: {
        phase?: string;
        podIP?: string;
        conditions?: ReadonlyArray<{ type: string; status: string; reason?: string; message?: string }>;
      };
    }
  >;
  readonly services: readonly Raw[];
  readonly endpointSlices: readonly Raw[];
}

const meta = (o: Raw): { name: string; namespace: string; generation?: number; labels?: Record<string, string> } => o['metadata'] as never;

/** The name of the object's controller of that kind, from its ownerReferences. */
function controllerOf(object: Raw, kind: string): string | undefined {
  const owners =
    (object['metadata'] as { ownerReferences?: Array<{ kind: string; name: string; controller?: boolean }> }).ownerReferences ?? [];
  return owners.find((o) => o.kind === kind && o.controller !== false)?.name;
}

/**
 * A slice the EndpointSlice controller owns, or one without a manager. Slices another manager
 * writes (the lab's own for its host-process agents, lab/prometheus) are not the controller's
 * answer to the Service's pods, so they neither settle nor hold up a Service.
 */
function isControllers(slice: Raw): boolean {
  const manager = meta(slice).labels?.[MANAGED_BY_LABEL];
  return manager === undefined || manager === ENDPOINTSLICE_CONTROLLER;
}

function podReady(pod: ApiLists['pods'][number]): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

function matches(selector: Record<string, string>, labels: Record<string, string> | undefined): boolean {
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

export function apiSettlement(lists: ApiLists): { waiting: string[]; problems: string[] } {
  const waiting: string[] = [];
  const problems: string[] = [];
  for (const d of lists.deployments) {
    const m = meta(d);
    const want = ((d['spec'] as Raw | undefined)?.['replicas'] as number | undefined) ?? 1;
    const s = (d['status'] ?? {}) as { observedGeneration?: number; replicas?: number; updatedReplicas?: number; readyReplicas?: number };
    const rolledOut =
      (s.observedGeneration ?? 0) >= (m.generation ?? 0) &&
      (s.updatedReplicas ?? 0) === want &&
      (s.readyReplicas ?? 0) === want &&
      (s.replicas ?? 0) === want;
    if (!rolledOut)
      waiting.push(
        `deployment ${m.namespace}/${m.name}: ${s.readyReplicas ?? 0}/${want} ready, ` +
          `${s.updatedReplicas ?? 0} updated, ${s.replicas ?? 0} in all`,
      );
  }
  const live = (items: readonly Raw[]) =>
    new Set(
      items
        .filter((o) => !(o['metadata'] as { deletionTimestamp?: string }).deletionTimestamp)
        .map((o) => `${meta(o).namespace}/${meta(o).name}`),
    );
  const deployments = live(lists.deployments);
  const replicaSets = live(lists.replicaSets);
  const deploymentOf = new Map(lists.replicaSets.map((rs) => [`${meta(rs).namespace}/${meta(rs).name}`, controllerOf(rs, 'Deployment')]));
  for (const pod of lists.pods) {
    const key = `${pod.metadata.namespace}/${pod.metadata.name}`;
    const rs = controllerOf(pod as unknown as Raw, 'ReplicaSet');
    const rsKey = rs && `${pod.metadata.namespace}/${rs}`;
    const deployment = rsKey ? deploymentOf.get(rsKey) : undefined;
    if (rsKey && (!replicaSets.has(rsKey) || (deployment !== undefined && !deployments.has(`${pod.metadata.namespace}/${deployment}`)))) {
      // Ready and still answering, but its owner is gone: the garbage collector has yet to delete it.
      waiting.push(
        `pod ${key}: its ${replicaSets.has(rsKey) ? `Deployment ${deployment}` : `ReplicaSet ${rs}`} is gone; ` +
          'waiting for garbage collection',
      );
      continue;
    }
    const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
    if (pod.metadata.deletionTimestamp) waiting.push(`pod ${key}: terminating`);
    else if (pod.status?.phase === 'Failed')
      problems.push(
        `pod ${key}: ${pod.status.conditions?.find((c) => c.message)?.message ?? (pod.status as { message?: string }).message ?? 'Failed'}`,
      );
    else if (scheduled?.status === 'False' && scheduled.reason === 'Unschedulable')
      problems.push(`pod ${key}: Unschedulable: ${scheduled.message ?? ''}`);
    else if (!podReady(pod)) waiting.push(`pod ${key}: not ready`);
  }
  for (const service of lists.services) {
    const m = meta(service);
    const selector = (service['spec'] as Raw | undefined)?.['selector'] as Record<string, string> | undefined;
    if (!selector || Object.keys(selector).length === 0) continue;
    const want = lists.pods
      .filter(
        (p) =>
          p.metadata.namespace === m.namespace &&
          !p.metadata.deletionTimestamp &&
          podReady(p) &&
          p.status?.podIP &&
          matches(selector, p.metadata.labels),
      )
      .map((p) => p.status!.podIP!)
      .sort();
    const have = lists.endpointSlices
      .filter((s) => meta(s).namespace === m.namespace && meta(s).labels?.['kubernetes.io/service-name'] === m.name)
      .filter((s) => isControllers(s))
      .flatMap((s) =>
        ((s['endpoints'] ?? []) as Array<{ addresses?: string[]; conditions?: { ready?: boolean } }>)
          .filter((e) => e.conditions?.ready)
          .flatMap((e) => e.addresses ?? []),
      )
      .sort();
    if (want.join() !== have.join())
      waiting.push(`endpointslices of ${m.namespace}/${m.name}: ready endpoints [${have.join(', ')}], ready pods [${want.join(', ')}]`);
  }
  return { waiting, problems };
}
