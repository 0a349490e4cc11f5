/*
 * The EndpointSlice controller's job for one Service: every pod the selector matches that has
 * an address, with its node, its node's zone and the conditions ready / serving / terminating.
 * Named target ports are resolved per pod, so pods that resolve them differently land in
 * different slices, as in Kubernetes.
 */
import type { ServicePortSpec } from './objects.js';
import { matchesLabels } from './selectors.js';
import { isReady, type NodeView, type PodView, type ServiceView } from './views.js';

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
export const MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
/** The value of MANAGED_BY_LABEL on the slices Kubernetes' EndpointSlice controller writes. */
export const ENDPOINTSLICE_CONTROLLER = 'endpointslice-controller.k8s.io';
export const ZONE_LABEL = 'topology.kubernetes.io/zone';

interface SlicePort {
  readonly name: string;
  readonly port: number;
  readonly protocol: string;
}

function resolvePorts(ports: readonly ServicePortSpec[], pod: PodView | undefined): SlicePort[] {
  return ports.flatMap((p) => {
    if (typeof p.targetPort === 'number') return [{ name: p.name, port: p.targetPort, protocol: p.protocol }];
    const named = pod?.containers.flatMap((c) => c.ports).find((cp) => cp.name === p.targetPort && cp.protocol === p.protocol);
    return named ? [{ name: p.name, port: named.containerPort, protocol: p.protocol }] : [];
  });
}

function endpointOf(pod: PodView, nodes: ReadonlyMap<string, NodeView>): Record<string, unknown> {
  const zone = pod.node ? nodes.get(pod.node)?.labels[ZONE_LABEL] : undefined;
  return {
    addresses: [pod.ip],
    conditions: { ready: isReady(pod), serving: pod.phase === 'Running' && pod.serving, terminating: pod.terminating },
    ...(pod.node ? { nodeName: pod.node } : {}),
    ...(zone ? { zone } : {}),
    targetRef: { kind: 'Pod', namespace: pod.namespace, name: pod.name, uid: pod.uid },
  };
}

function byAddress(a: PodView, b: PodView): number {
  const key = (ip = '') =>
    ip
      .split('.')
      .map((p) => p.padStart(3, '0'))
      .join('.');
  return key(a.ip) < key(b.ip) ? -1 : key(a.ip) > key(b.ip) ? 1 : 0;
}

/**
 * The slices of one Service (none for a Service without selector). `sliceName` gives a stable
 * generated name per group of resolved ports, so a Service whose target ports are numbers keeps
 * one slice name for its life, with or without endpoints.
 */
export function endpointSlicesFor(
  service: ServiceView,
  pods: readonly PodView[],
  nodes: ReadonlyMap<string, NodeView>,
  sliceName: (groupKey: string) => string,
): Array<Record<string, unknown>> {
  const selector = service.selector;
  if (!selector || Object.keys(selector).length === 0) return [];
  const members = pods
    .filter((p) => p.namespace === service.namespace && p.ip !== undefined && matchesLabels(selector, p.labels))
    .sort(byAddress);
  const groups = new Map<string, { ports: SlicePort[]; pods: PodView[] }>();
  for (const pod of members) {
    const ports = resolvePorts(service.ports, pod);
    if (ports.length === 0) continue;
    const key = JSON.stringify(ports);
    const group = groups.get(key) ?? { ports, pods: [] };
    group.pods.push(pod);
    groups.set(key, group);
  }
  if (groups.size === 0) {
    const ports = resolvePorts(service.ports, undefined);
    groups.set(JSON.stringify(ports), { ports, pods: [] });
  }
  return [...groups.entries()].map(([key, group]) => ({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: sliceName(key),
      namespace: service.namespace,
      labels: { [SERVICE_NAME_LABEL]: service.name, [MANAGED_BY_LABEL]: ENDPOINTSLICE_CONTROLLER },
      ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name: service.name, controller: true }],
    },
    addressType: 'IPv4',
    ports: group.ports,
    endpoints: group.pods.map((pod) => endpointOf(pod, nodes)),
  }));
}
