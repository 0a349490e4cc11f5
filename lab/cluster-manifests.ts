/*
 * The objects the lab publishes for the agents (and for people) in cluster/: what an API server
 * would return for Nodes, Namespaces, Services and Pods. EndpointSlices are in endpoint-slices.ts.
 */
import { isReady, type NamespaceView, type NodeView, type PodView, type ServiceView } from './views.js';

export function nodeManifest(node: NodeView): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: node.name, labels: { ...node.labels } },
    spec: {
      podCIDR: node.podCidr,
      podCIDRs: [node.podCidr],
      ...(node.taints.length > 0 ? { taints: node.taints.map((t) => ({ ...t })) } : {}),
    },
    status: { conditions: [{ type: 'Ready', status: 'True' }] },
  };
}

export function namespaceManifest(ns: NamespaceView): Record<string, unknown> {
  const metadata = (ns.raw?.['metadata'] ?? {}) as Record<string, unknown>;
  const labels = { ...((metadata['labels'] as Record<string, string> | undefined) ?? {}), 'kubernetes.io/metadata.name': ns.name };
  const annotations = metadata['annotations'];
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns.name, labels, ...(annotations ? { annotations } : {}) } };
}

/** The Service as applied, with what the API server fills in: the VIP, families, defaults. */
export function serviceManifest(service: ServiceView): Record<string, unknown> {
  const { status: _status, ...raw } = service.raw;
  const spec = (raw['spec'] ?? {}) as Record<string, unknown>;
  const headless = service.clusterIP === 'None';
  return {
    ...raw,
    spec: {
      ...spec,
      type: spec['type'] ?? 'ClusterIP',
      clusterIP: service.clusterIP,
      clusterIPs: [service.clusterIP],
      ...(headless ? {} : { ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack' }),
      ports: service.ports.map((p) => ({
        ...(p.name ? { name: p.name } : {}),
        port: p.port,
        targetPort: p.targetPort,
        protocol: p.protocol,
      })),
    },
  };
}

export function podManifest(pod: PodView): Record<string, unknown> {
  const ready = isReady(pod);
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: pod.name,
      namespace: pod.namespace,
      uid: pod.uid,
      labels: { ...pod.labels },
      creationTimestamp: pod.createdAt,
      ...(pod.owner ? { ownerReferences: [{ apiVersion: 'apps/v1', kind: pod.owner.kind, name: pod.owner.name, controller: true }] } : {}),
      ...(pod.terminating ? { deletionTimestamp: new Date().toISOString() } : {}),
    },
    spec: { ...pod.rawSpec, ...(pod.node ? { nodeName: pod.node } : {}) },
    status: {
      phase: pod.phase,
      ...(pod.reason ? { reason: pod.reason } : {}),
      ...(pod.ip ? { podIP: pod.ip, podIPs: [{ ip: pod.ip }] } : {}),
      conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
    },
  };
}
