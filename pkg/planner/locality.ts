import type { Endpoint, Node, Snapshot } from '../model/index.js';
import type { Scope } from './types.js';

import { ISTIO_SUBZONE_LABEL, KUBERNETES_SUBZONE_LABEL, NETWORK_LABEL, REGION_LABEL, ZONE_LABEL } from '../model/index.js';

export { ISTIO_SUBZONE_LABEL, KUBERNETES_SUBZONE_LABEL, NETWORK_LABEL, REGION_LABEL, ZONE_LABEL };

/**
 * Where something runs, one value per scope. A missing label is '' (known to be empty); an
 * `undefined` scope is unknown and matches nothing.
 */
export type Locality = Readonly<Partial<Record<Scope, string>>>;

/** Where a locality came from, for warnings and explanations. */
export type LocalitySource = 'node' | 'zone-field' | 'none';

export interface ResolvedLocality {
  readonly locality: Locality;
  readonly source: LocalitySource;
}

// Nodes are immutable model objects, so a Node's locality can be worked out once, and so can the
// answer endpointLocality() gives for every endpoint on it (one object per Node, not per endpoint).
const resolvedOfNode = new WeakMap<Node, ResolvedLocality>();

function resolvedNode(node: Node): ResolvedLocality {
  let resolved = resolvedOfNode.get(node);
  if (!resolved) resolvedOfNode.set(node, (resolved = { locality: readNodeLocality(node), source: 'node' }));
  return resolved;
}

export function nodeLocality(node: Node): Locality {
  return resolvedNode(node).locality;
}

function readNodeLocality(node: Node): Locality {
  const label = (name: string): string => node.labels[name] ?? '';
  return {
    network: label(NETWORK_LABEL),
    region: label(REGION_LABEL),
    zone: label(ZONE_LABEL),
    // Both subzone labels are read; Istio's wins when both carry a value.
    subzone: label(ISTIO_SUBZONE_LABEL) || label(KUBERNETES_SUBZONE_LABEL),
    node: node.name,
  };
}

/** This node's locality. A node missing from the snapshot is known only by its name. */
export function clientLocality(snapshot: Snapshot, nodeName: string): ResolvedLocality {
  const node = snapshot.nodes.get(nodeName);
  return node ? resolvedNode(node) : { locality: { node: nodeName }, source: 'none' };
}

/**
 * An endpoint's locality: its Node's labels, else the slice's zone field (the Node may not have
 * been seen yet), else nothing but the node name it claims.
 */
export function endpointLocality(snapshot: Snapshot, endpoint: Endpoint): ResolvedLocality {
  const node = endpoint.nodeName === undefined ? undefined : snapshot.nodes.get(endpoint.nodeName);
  if (node) return resolvedNode(node);
  const byName = endpoint.nodeName === undefined ? {} : { node: endpoint.nodeName };
  if (endpoint.zone) return { locality: { ...byName, zone: endpoint.zone }, source: 'zone-field' };
  return { locality: byName, source: 'none' };
}
