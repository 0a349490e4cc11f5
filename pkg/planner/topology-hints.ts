/*
 * Topology Aware Routing hints, read as kube-proxy reads them (docs/semantics.md, "Topology
 * hints"): only for a Service no other locality rule covers, whenever the slices carry hints
 * (the topology-mode annotation is not looked at), and only when every ready endpoint has them.
 */
import { ZONE_LABEL, type Endpoint, type Node, type Snapshot } from '../model/index.js';
import { isReady } from './eligibility.js';
import type { Warning } from './types.js';

/** Which hints decided: this node's, this node's zone's, or none (every endpoint). */
export type HintRule = 'node' | 'zone' | 'none';

export interface HintChoice {
  readonly rule: HintRule;
  /** One sentence for explanations; "" when no endpoint carries any hint. */
  readonly why: string;
  readonly keeps: (endpoint: Endpoint) => boolean;
}

const keepAll = (): boolean => true;

function hasAnyHint(endpoint: Endpoint): boolean {
  return endpoint.hints !== undefined && (endpoint.hints.forNodes.length > 0 || endpoint.hints.forZones.length > 0);
}

/**
 * Node hints first: used when every ready endpoint has one and some name this node. Then zone
 * hints the same way, for this node's zone label. Otherwise every endpoint. Endpoints that are
 * not ready are not looked at, as kube-proxy does.
 */
export function chooseHints(endpoints: readonly Endpoint[], nodeName: string, zone: string | undefined): HintChoice {
  if (!endpoints.some(hasAnyHint)) return { rule: 'none', why: '', keeps: keepAll };
  const ready = endpoints.filter((e) => isReady(e.conditions));
  const none = (why: string): HintChoice => ({
    rule: 'none',
    why: `topology hints not used: ${why}; every endpoint is used`,
    keeps: keepAll,
  });
  if (ready.length === 0) return none('no endpoint is ready');

  const forNodes = (e: Endpoint): readonly string[] => e.hints?.forNodes ?? [];
  const forZones = (e: Endpoint): readonly string[] => e.hints?.forZones ?? [];
  const allNodeHinted = ready.every((e) => forNodes(e).length > 0);
  if (allNodeHinted && ready.some((e) => forNodes(e).includes(nodeName))) {
    return {
      rule: 'node',
      why: `node hints: every ready endpoint has one and some are for ${nodeName}, so only those are used`,
      keeps: (e) => forNodes(e).includes(nodeName),
    };
  }
  const nodeVerdict = allNodeHinted ? `no node hint is for ${nodeName}` : 'not every ready endpoint has a node hint';
  if (!ready.every((e) => forZones(e).length > 0)) return none(`${nodeVerdict}, and not every ready endpoint has a zone hint`);
  if (!zone) return none(`${nodeVerdict}, and this node has no ${ZONE_LABEL} label to match zone hints`);
  if (!ready.some((e) => forZones(e).includes(zone))) return none(`${nodeVerdict}, and no zone hint is for ${zone}`);
  return {
    rule: 'zone',
    why: `zone hints (${nodeVerdict}): every ready endpoint has one and some are for zone ${zone}, so only those are used`,
    keeps: (e) => forZones(e).includes(zone),
  };
}

/** Scans the Nodes per zone asked about: hinted zones are few, and most are found at once. */
function someNodeIn(nodes: ReadonlyMap<string, Node>, zone: string): boolean {
  for (const node of nodes.values()) if (node.labels[ZONE_LABEL] === zone) return true;
  return false;
}

/**
 * One warning per slice and zone a hint names that no Node is in: no client ever matches it.
 * It reads every Node, so an incremental pass may see a new Node's zone only at the next resync.
 */
export function unknownZoneWarnings(snapshot: Snapshot, serviceKey: string): Warning[] {
  const known = new Map<string, boolean>();
  const isKnown = (zone: string): boolean => {
    let found = known.get(zone);
    if (found === undefined) known.set(zone, (found = someNodeIn(snapshot.nodes, zone)));
    return found;
  };
  const warnings: Warning[] = [];
  for (const slice of snapshot.endpointSlices.get(serviceKey) ?? []) {
    const unknown = new Set<string>();
    for (const endpoint of slice.endpoints) for (const z of endpoint.hints?.forZones ?? []) if (!isKnown(z)) unknown.add(z);
    for (const z of [...unknown].sort()) {
      warnings.push({
        code: 'hint-unknown-zone',
        kind: 'EndpointSlice',
        name: `${slice.namespace}/${slice.name}`,
        message: `an endpoint is hinted for zone ${JSON.stringify(z)}, which no Node is in`,
      });
    }
  }
  return warnings;
}
