/*
 * A DestinationRule's localityLbSetting as a policy (docs/semantics.md, "DestinationRule"):
 * enabled: false, Istio's default order, failover, failoverPriority and distribute. Each form but
 * the default brings its own placement: which tier an endpoint goes to, or none.
 */
import {
  CLUSTER_LABEL,
  HOSTNAME_LABEL,
  ISTIO_SUBZONE_LABEL,
  KUBERNETES_SUBZONE_LABEL,
  NETWORK_LABEL,
  REGION_LABEL,
  ZONE_LABEL,
  type DestinationRule,
  type Endpoint,
  type LocalityFailover,
  type LocalityLbSetting,
  type Snapshot,
} from '../model/index.js';
import type { Locality, ResolvedLocality } from './locality.js';
import { PREFER_CLOSE_SCOPES, type Placement, type Policy } from './policy.js';
import { tierOf } from './rank.js';
import { MAX_TIERS, type Scope } from './types.js';

export interface RuleContext {
  readonly snapshot: Snapshot;
  readonly client: ResolvedLocality;
  /** How the rule is named in reasons: `DestinationRule ns/name (service namespace)`. */
  readonly owner: string;
  /** The local cluster's name: the cluster of endpoints that carry none (PlanOptions.localCluster). */
  readonly localCluster: string;
}

/** A locality string's parts, widest first ("region/zone/subzone"), and failover's closeness order. */
const LOCALITY_PARTS: readonly Scope[] = ['region', 'zone', 'subzone'];

/** Topology labels read from the resolved locality (node labels, or the slice's zone field). */
const TOPOLOGY_SCOPE: Readonly<Record<string, Scope>> = {
  [REGION_LABEL]: 'region',
  [ZONE_LABEL]: 'zone',
  [ISTIO_SUBZONE_LABEL]: 'subzone',
  [KUBERNETES_SUBZONE_LABEL]: 'subzone',
  [NETWORK_LABEL]: 'network',
  [HOSTNAME_LABEL]: 'node',
};

/** Whether failoverPriority reads this label from the locality (as Istio does) rather than from Node labels. */
export function isTopologyLabel(label: string): boolean {
  return Object.hasOwn(TOPOLOGY_SCOPE, label) || label === CLUSTER_LABEL;
}

/**
 * Istio's locality match: parts compared in order, `*` matches the rest, and a pattern naming
 * fewer parts matches everything below them ("r" matches every zone of region r).
 */
export function localityMatches(pattern: string, locality: Locality): boolean {
  if (pattern === '*') return true;
  const parts = pattern.split('/');
  for (let i = 0; i < parts.length && i < LOCALITY_PARTS.length; i++) {
    if (parts[i] === '*') return true;
    const value = locality[LOCALITY_PARTS[i]!];
    if (value === undefined || value !== parts[i]) return false;
  }
  return true;
}

function showLocality(locality: Locality): string {
  return LOCALITY_PARTS.map((p) => locality[p] ?? '?').join('/');
}

/** Clamped so the farthest levels share the last tier, as PreferSameNode's are. */
const clampTier = (tier: number): number => Math.min(tier, MAX_TIERS - 1);

function otherNetwork(client: Locality, endpoint: Locality): boolean {
  return tierOf(client, endpoint, ['network']) > 0;
}

/** The failover target regions for a client in `region`, in the order written. */
function failoverTargets(failover: readonly LocalityFailover[], region: string | undefined): string[] {
  return failover.filter((f) => f.from === region).map((f) => f.to);
}

/**
 * failover: same subzone, zone, region, then each `to` region of the client's region, then the
 * rest; endpoints of another network rank below all of these (network first, as for the
 * built-in policies), in the same order.
 */
function failoverPlacement(failover: readonly LocalityFailover[], context: RuleContext): { placement: Placement; targets: string[] } {
  const client = context.client.locality;
  const targets = failoverTargets(failover, client.region);
  const levels = LOCALITY_PARTS.length + 1 + targets.length;
  const level = (endpoint: Locality): number => {
    const closeness = tierOf(client, endpoint, LOCALITY_PARTS); // 0 same subzone .. 3 another region
    if (closeness < LOCALITY_PARTS.length) return closeness;
    const target = endpoint.region === undefined ? -1 : targets.indexOf(endpoint.region);
    return LOCALITY_PARTS.length + (target >= 0 ? target : targets.length);
  };
  return {
    targets,
    placement: {
      tiers: Math.min(2 * levels, MAX_TIERS),
      place: (_endpoint, resolved) => clampTier((otherNetwork(client, resolved.locality) ? levels : 0) + level(resolved.locality)),
    },
  };
}

/** A label's value for one side: topology labels from the locality, others from its Node. */
function labelValue(
  label: string,
  resolved: ResolvedLocality,
  nodeLabels: Readonly<Record<string, string>> | undefined,
): string | undefined {
  const scope = TOPOLOGY_SCOPE[label];
  if (scope) return resolved.locality[scope];
  return nodeLabels === undefined ? undefined : (nodeLabels[label] ?? '');
}

/**
 * failoverPriority: an endpoint ranks by how many leading labels match the client's (with
 * `label=value`, the endpoint's label against the value). Labels that are not topology labels
 * are read from the Nodes on both sides, not from Pods as Istio does. With failover also set,
 * the endpoints matching no label are ordered by failover's regions.
 */
function priorityPlacement(setting: LocalityLbSetting, context: RuleContext, clientNode: string): Placement {
  const client = context.client;
  const clientLabels = context.snapshot.nodes.get(clientNode)?.labels;
  const terms = setting.failoverPriority.map((term) => {
    const eq = term.indexOf('=');
    return eq < 0 ? { label: term, value: undefined } : { label: term.slice(0, eq), value: term.slice(eq + 1) };
  });
  const targets = failoverTargets(setting.failover, client.locality.region);
  const lastSplit = setting.failover.length > 0 ? 2 + targets.length : 1;
  return {
    tiers: Math.min(terms.length + lastSplit, MAX_TIERS),
    place: (endpoint: Endpoint, resolved: ResolvedLocality) => {
      const labels = endpoint.nodeName === undefined ? undefined : context.snapshot.nodes.get(endpoint.nodeName)?.labels;
      let matched = 0;
      for (const { label, value } of terms) {
        // The client is always in the local cluster; an endpoint names its cluster when remote.
        const isCluster = label === CLUSTER_LABEL;
        const theirs = isCluster ? (endpoint.cluster ?? context.localCluster) : labelValue(label, resolved, labels);
        const wanted = value ?? (isCluster ? context.localCluster : labelValue(label, client, clientLabels));
        if (theirs === undefined || wanted === undefined || theirs !== wanted) break;
        matched++;
      }
      if (matched > 0 || setting.failover.length === 0) return clampTier(terms.length - matched);
      const region = resolved.locality.region;
      if (region !== undefined && region === client.locality.region) return clampTier(terms.length);
      const target = region === undefined ? -1 : targets.indexOf(region);
      return clampTier(terms.length + 1 + (target >= 0 ? target : targets.length));
    },
  };
}

function distributePolicy(setting: LocalityLbSetting, context: RuleContext): Policy {
  const client = context.client.locality;
  const index = setting.distribute.findIndex((d) => localityMatches(d.from, client));
  const entry = setting.distribute[index];
  if (!entry) {
    return {
      mode: 'RANDOM',
      scopes: [],
      reason:
        `${context.owner} localityLbSetting.distribute: no from matches this node's locality ${showLocality(client)}, ` +
        'so no locality applies (as in Istio): RANDOM over every eligible endpoint',
    };
  }
  const to = entry.to;
  return {
    mode: 'WEIGHTED',
    scopes: [],
    weights: to.map((t) => t.weight),
    // An endpoint goes to the first listed locality it lies in; localities not listed get nothing.
    // A listed locality without endpoints leaves an empty tier, and the kernel's WEIGHTED pick
    // (bpf/nearby.bpf.c) sums the weights of non-empty tiers only, so its share goes to the
    // others in proportion to their weights, as Envoy's locality-weighted balancing does.
    placement: {
      tiers: to.length,
      place: (_endpoint, resolved) => {
        const tier = to.findIndex((t) => localityMatches(t.locality, resolved.locality));
        return tier < 0 ? undefined : tier;
      },
    },
    reason:
      `${context.owner} localityLbSetting.distribute[${index}] from ${JSON.stringify(entry.from)}: WEIGHTED ` +
      to.map((t) => `${t.locality}=${t.weight}`).join(', '),
  };
}

/** The policy a rule's localityLbSetting gives, or undefined when it has none. */
export function localityPolicy(rule: DestinationRule, context: RuleContext, clientNode: string): Policy | undefined {
  const setting = rule.loadBalancer?.localityLbSetting;
  if (!setting) return undefined;
  const owner = context.owner;
  if (setting.enabled === false) {
    return { mode: 'RANDOM', scopes: [], reason: `${owner} localityLbSetting.enabled=false: RANDOM over every eligible endpoint` };
  }
  if (setting.distribute.length > 0) return distributePolicy(setting, context);
  if (setting.failoverPriority.length > 0) {
    return {
      mode: 'FAILOVER',
      scopes: [],
      placement: priorityPlacement(setting, context, clientNode),
      reason:
        `${owner} localityLbSetting.failoverPriority [${setting.failoverPriority.join(', ')}]: FAILOVER by how many leading ` +
        'labels match (labels other than topology ones are read from Nodes, not Pods)' +
        (setting.failover.length > 0 ? ', then failover regions' : ''),
    };
  }
  if (setting.failover.length > 0) {
    const { placement, targets } = failoverPlacement(setting.failover, context);
    const then = targets.length > 0 ? `, then region ${targets.join(', then ')}` : ' (no failover entry is from this region)';
    return {
      mode: 'FAILOVER',
      scopes: [],
      placement,
      reason: `${owner} localityLbSetting.failover: FAILOVER over network, region, zone, subzone${then}, then the other regions`,
    };
  }
  return {
    mode: 'FAILOVER',
    scopes: PREFER_CLOSE_SCOPES,
    reason: `${owner} localityLbSetting (Istio's default order): FAILOVER over ${PREFER_CLOSE_SCOPES.join(', ')}`,
  };
}
