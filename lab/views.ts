/* Plain views of the lab's state, shared by the pure functions that write manifests and files. */
import type { Taint } from './pod-scheduling.js';
import type { ContainerSpec, Labels, ServicePortSpec } from './objects.js';

export interface NodeView {
  readonly name: string;
  readonly role: 'control-plane' | 'worker';
  readonly labels: Labels;
  readonly podCidr: string;
  readonly taints: readonly Taint[];
}

export type PodPhase = 'Pending' | 'Running' | 'Failed';

export interface PodView {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly labels: Labels;
  readonly containers: readonly ContainerSpec[];
  /** The template or pod spec as applied, for the Pod manifest. */
  readonly rawSpec: Record<string, unknown>;
  readonly owner?: { readonly kind: 'ReplicaSet'; readonly name: string; readonly deployment: string };
  readonly node?: string;
  readonly ip?: string;
  readonly phase: PodPhase;
  /** Why it is not running or not ready (Unschedulable: ..., CrashLoopBackOff, ...). */
  readonly reason?: string;
  /** The processes run and the ports answer. */
  readonly serving: boolean;
  readonly terminating: boolean;
  readonly restarts: number;
  readonly createdAt: string;
}

export interface ServiceView {
  readonly namespace: string;
  readonly name: string;
  readonly raw: Record<string, unknown>;
  /** An IPv4 address, or "None" for a headless Service. */
  readonly clusterIP: string;
  readonly selector: Labels | undefined;
  readonly ports: readonly ServicePortSpec[];
}

export interface NamespaceView {
  readonly name: string;
  readonly raw: Record<string, unknown> | undefined;
}

export function isReady(pod: PodView): boolean {
  return pod.phase === 'Running' && pod.serving && !pod.terminating;
}
