/*
 * A kind Cluster document (kind.x-k8s.io/v1alpha4) turned into the lab's nodes and network,
 * named and labelled the way kind and the kubelet do it: <name>-control-plane, <name>-worker,
 * <name>-worker2, ...; kubernetes.io/hostname, kubernetes.io/os, kubernetes.io/arch, and the
 * control-plane role; then the kubelet's --node-labels from kubeadmConfigPatches
 * (kubeadm-patches.ts), then a node's `labels:`, as kind applies them. networking.podSubnet and
 * serviceSubnet are the lab's pod and Service addresses (ipam.ts). What the lab cannot run
 * (a node image, the API server's address) is accepted and said once in `notes`; any other
 * field is refused by name, so a config never silently means less than it says.
 */
import { LabError } from './errors.js';
import { API_ADDRESS_RANGE } from './api-address.js';
import { checkNetwork, type LabNetwork } from './ipam.js';
import { readKubeadmPatch, type KubeadmConfigKind } from './kubeadm-patches.js';

export const KIND_API_VERSION = 'kind.x-k8s.io/v1alpha4';
/** kind's defaults, when networking names no subnet. */
export const POD_SUBNET = '10.244.0.0/16';
export const SERVICE_SUBNET = '10.96.0.0/16';
export const KIND_DEFAULT_NETWORK: LabNetwork = { podSubnet: POD_SUBNET, serviceSubnet: SERVICE_SUBNET };
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
  readonly network: LabNetwork;
  /** What of the config was accepted but has no effect in the lab, one line each. */
  readonly notes: readonly string[];
}

const CLUSTER_FIELDS = ['kind', 'apiVersion', 'name', 'nodes', 'networking', 'kubeadmConfigPatches'];
const NODE_FIELDS = ['role', 'labels', 'image', 'kubeadmConfigPatches'];
const SUBNET_FIELDS = ['podSubnet', 'serviceSubnet'];
/** Where kind's API server listens on the host; the lab's listens on loopback, on a free port. */
const IGNORED_NETWORKING_FIELDS = ['apiServerAddress', 'apiServerPort'];

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

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringMap(value: unknown, where: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (!isRecord(value)) throw new LabError('invalid', `${where}: expected a map of strings`);
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, String(v)]));
}

function onlyFields(object: Record<string, unknown>, allowed: readonly string[], where: string): void {
  for (const field of Object.keys(object)) {
    if (!allowed.includes(field)) {
      throw new LabError('invalid', `${where}.${field}: not supported by the lab (it reads ${allowed.join(', ')})`);
    }
  }
}

function readNetwork(value: unknown, notes: string[]): LabNetwork {
  const where = 'kind Cluster networking';
  if (value === undefined || value === null) return KIND_DEFAULT_NETWORK;
  if (!isRecord(value)) throw new LabError('invalid', `${where}: expected a map`);
  onlyFields(value, [...SUBNET_FIELDS, ...IGNORED_NETWORKING_FIELDS], where);
  for (const field of IGNORED_NETWORKING_FIELDS) {
    if (value[field] !== undefined) {
      notes.push(
        `${where}.${field} ${JSON.stringify(value[field])} ignored: the lab publishes its API server at an address of its own (${API_ADDRESS_RANGE})`,
      );
    }
  }
  const network: LabNetwork = {
    podSubnet: (value['podSubnet'] as string | undefined) ?? POD_SUBNET,
    serviceSubnet: (value['serviceSubnet'] as string | undefined) ?? SERVICE_SUBNET,
  };
  checkNetwork(network, where);
  return network;
}

/** The patches of one list (the cluster's or a node's), read for node labels. */
function readPatches(value: unknown, where: string): Array<{ kind: KubeadmConfigKind; labels: Readonly<Record<string, string>> }> {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new LabError('invalid', `${where}: expected a list of YAML strings`);
  return value.map((patch: unknown, i: number) => readKubeadmPatch(patch, `${where}[${i}]`));
}

/** The nodes of a cluster: `nodes:` of the document, or kind's default of one control-plane. */
export function planCluster(doc: Record<string, unknown> | undefined, labName: string): ClusterPlan {
  if (doc && doc['apiVersion'] !== KIND_API_VERSION) {
    throw new LabError('invalid', `kind Cluster apiVersion ${JSON.stringify(doc['apiVersion'])} is not supported; use ${KIND_API_VERSION}`);
  }
  if (doc) onlyFields(doc, CLUSTER_FIELDS, 'kind Cluster');
  const notes: string[] = [];
  const network = readNetwork(doc?.['networking'], notes);
  const clusterPatches = readPatches(doc?.['kubeadmConfigPatches'], 'kind Cluster kubeadmConfigPatches');
  const rawNodes = doc?.['nodes'] ?? [{ role: 'control-plane' }];
  if (!Array.isArray(rawNodes) || rawNodes.length === 0) throw new LabError('invalid', 'kind Cluster nodes: expected a non-empty list');
  const counts = { 'control-plane': 0, worker: 0 };
  const images = new Set<string>();
  const nodes = rawNodes.map((raw: unknown, i: number): NodePlan => {
    const where = `kind Cluster nodes[${i}]`;
    const node = raw ?? {};
    if (!isRecord(node)) throw new LabError('invalid', `${where}: expected a map`);
    onlyFields(node, NODE_FIELDS, where);
    const role = node['role'] ?? 'control-plane';
    if (role !== 'control-plane' && role !== 'worker')
      throw new LabError('invalid', `${where}.role: expected control-plane or worker, got ${JSON.stringify(role)}`);
    if (node['image'] !== undefined) {
      if (typeof node['image'] !== 'string') throw new LabError('invalid', `${where}.image: expected an image reference`);
      images.add(node['image']);
    }
    // kubeadm init runs on the first control-plane node only; every other node joins.
    const joins: KubeadmConfigKind = role === 'control-plane' && counts['control-plane'] === 0 ? 'InitConfiguration' : 'JoinConfiguration';
    counts[role] += 1;
    const name = `${labName}-${role}${counts[role] > 1 ? counts[role] : ''}`;
    const patched = [...clusterPatches, ...readPatches(node['kubeadmConfigPatches'], `${where}.kubeadmConfigPatches`)]
      .filter((p) => p.kind === joins)
      .reduce<Record<string, string>>((all, p) => ({ ...all, ...p.labels }), {});
    return {
      name,
      role,
      labels: { ...kubeletLabels(name, role), ...patched, ...stringMap(node['labels'], `${where}.labels`) },
    };
  });
  if (counts['control-plane'] === 0) throw new LabError('invalid', 'kind Cluster nodes: at least one control-plane node is needed');
  if (images.size > 0) {
    notes.push(
      `kind Cluster nodes[].image ${[...images].join(', ')} accepted: lab nodes run no node image, the lab's kubelet is the same for all`,
    );
  }
  const name = typeof doc?.['name'] === 'string' ? doc['name'] : undefined;
  return { ...(name ? { name } : {}), nodes, network, notes };
}
