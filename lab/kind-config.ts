/*
 * A kind Cluster document (kind.x-k8s.io/v1alpha4) turned into the lab's nodes, named and
 * labelled the way kind and the kubelet do it: <name>-control-plane, <name>-worker,
 * <name>-worker2, ...; kubernetes.io/hostname, kubernetes.io/os, kubernetes.io/arch, and the
 * control-plane role. A node's `labels:` from the config are added, as kind does.
 */
import { LabError } from './errors.js';

export const KIND_API_VERSION = 'kind.x-k8s.io/v1alpha4';
export const POD_SUBNET = '10.244.0.0/16';
export const SERVICE_SUBNET = '10.96.0.0/16';
export const CONTROL_PLANE_LABEL = 'node-role.kubernetes.io/control-plane';
export const HOSTNAME_LABEL = 'kubernetes.io/hostname';

export type NodeRole = 'control-plane' | 'worker';

export interface NodePlan {
  readonly name: string;
  readonly role: NodeRole;
  readonly labels: Readonly<Record<string, string>>;
}

export interface ClusterPlan {
  /** From the document's `name`, if it has one. */
  readonly name?: string;
  readonly nodes: readonly NodePlan[];
}

export function isKindCluster(object: Record<string, unknown>): boolean {
  return object['kind'] === 'Cluster' && typeof object['apiVersion'] === 'string' && object['apiVersion'].startsWith('kind.x-k8s.io/');
}

function kubeArch(): string {
  return { x64: 'amd64', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x' }[process.arch as string] ?? process.arch;
}

export function kubeletLabels(name: string, role: NodeRole): Record<string, string> {
  const arch = kubeArch();
  return {
    'beta.kubernetes.io/arch': arch,
    'beta.kubernetes.io/os': 'linux',
    'kubernetes.io/arch': arch,
    [HOSTNAME_LABEL]: name,
    'kubernetes.io/os': 'linux',
    ...(role === 'control-plane' ? { [CONTROL_PLANE_LABEL]: '', 'node.kubernetes.io/exclude-from-external-load-balancers': '' } : {}),
  };
}

function stringMap(value: unknown, where: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new LabError('invalid', `${where}: expected a map of strings`);
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, String(v)]));
}

/** The nodes of a cluster: `nodes:` of the document, or kind's default of one control-plane. */
export function planCluster(doc: Record<string, unknown> | undefined, labName: string): ClusterPlan {
  if (doc && doc['apiVersion'] !== KIND_API_VERSION) {
    throw new LabError('invalid', `kind Cluster apiVersion ${JSON.stringify(doc['apiVersion'])} is not supported; use ${KIND_API_VERSION}`);
  }
  const networking = (doc?.['networking'] ?? {}) as Record<string, unknown>;
  for (const [field, supported] of [
    ['podSubnet', POD_SUBNET],
    ['serviceSubnet', SERVICE_SUBNET],
  ] as const) {
    const value = networking[field];
    if (value !== undefined && value !== supported) {
      throw new LabError(
        'invalid',
        `kind Cluster networking.${field} ${JSON.stringify(value)}: the lab only uses kind's default ${supported}`,
      );
    }
  }
  const rawNodes = doc?.['nodes'] ?? [{ role: 'control-plane' }];
  if (!Array.isArray(rawNodes) || rawNodes.length === 0) throw new LabError('invalid', 'kind Cluster nodes: expected a non-empty list');
  const counts = { 'control-plane': 0, worker: 0 };
  const nodes = rawNodes.map((raw: unknown, i: number): NodePlan => {
    const where = `kind Cluster nodes[${i}]`;
    const node = (raw ?? {}) as Record<string, unknown>;
    const role = node['role'] ?? 'control-plane';
    if (role !== 'control-plane' && role !== 'worker')
      throw new LabError('invalid', `${where}.role: expected control-plane or worker, got ${JSON.stringify(role)}`);
    counts[role] += 1;
    const name = `${labName}-${role}${counts[role] > 1 ? counts[role] : ''}`;
    return { name, role, labels: { ...kubeletLabels(name, role), ...stringMap(node['labels'], `${where}.labels`) } };
  });
  if (counts['control-plane'] === 0) throw new LabError('invalid', 'kind Cluster nodes: at least one control-plane node is needed');
  const name = typeof doc?.['name'] === 'string' ? doc['name'] : undefined;
  return { ...(name ? { name } : {}), nodes };
}
