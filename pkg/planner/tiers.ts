import { addressSortKey, type Snapshot } from '../model/index.js';
import type { Candidate } from './candidates.js';
import { isTerminating } from './eligibility.js';
import { endpointLocality, type ResolvedLocality } from './locality.js';
import type { Policy } from './policy.js';
import { failoverTierCount, tierOf } from './rank.js';
import type { PlannedEndpoint, PlannedTier, Warning } from './types.js';

export interface TierContext {
  readonly snapshot: Snapshot;
  readonly client: ResolvedLocality;
  readonly warn: (warning: Warning) => void;
}

function podOf(candidate: Candidate): string | null {
  const ref = candidate.endpoint.targetRef;
  if (ref?.kind !== 'Pod') return null;
  const sliceNamespace = candidate.slice.split('/').at(-2) ?? '';
  return `${ref.namespace ?? sliceNamespace}/${ref.name}`;
}

function toPlannedEndpoint(candidate: Candidate): PlannedEndpoint {
  return {
    address: candidate.address,
    port: candidate.port,
    node: candidate.endpoint.nodeName ?? null,
    pod: podOf(candidate),
    terminating: isTerminating(candidate.conditions),
  };
}

/** Tiers up to this long are sorted by insertion; longer ones by Array.prototype.sort. */
const INSERTION_LIMIT = 32;

/** Address sort key (numeric), then port: the order of a tier's endpoints. */
function inOrder(key: string, port: number, otherKey: string, otherPort: number): number {
  return key !== otherKey ? (key < otherKey ? -1 : 1) : port - otherPort;
}

function toTier(candidates: readonly Candidate[]): PlannedTier {
  // Ordered by address (numerically), then port; each sort key is worked out once.
  if (candidates.length > INSERTION_LIMIT) {
    const keyed = candidates.map((c) => ({ key: addressSortKey(c.address), endpoint: toPlannedEndpoint(c) }));
    keyed.sort((a, b) => inOrder(a.key, a.endpoint.port, b.key, b.endpoint.port));
    return { endpoints: keyed.map((k) => k.endpoint) };
  }
  // Most tiers are short: sorted as they are built, stable as sort() is, without an object per
  // endpoint to carry its key nor the copy sort() makes of every array it sorts.
  const keys: string[] = [];
  const endpoints: PlannedEndpoint[] = [];
  for (const candidate of candidates) {
    const key = addressSortKey(candidate.address);
    const endpoint = toPlannedEndpoint(candidate);
    let at = endpoints.length;
    keys.push(key);
    endpoints.push(endpoint);
    for (; at > 0 && inOrder(key, endpoint.port, keys[at - 1]!, endpoints[at - 1]!.port) < 0; at--) {
      keys[at] = keys[at - 1]!;
      endpoints[at] = endpoints[at - 1]!;
    }
    keys[at] = key;
    endpoints[at] = endpoint;
  }
  return { endpoints };
}

function warnAboutLocality(candidate: Candidate, resolved: ResolvedLocality, warn: TierContext['warn']): void {
  if (resolved.source === 'node') return;
  const node = candidate.endpoint.nodeName;
  const unknownNode = node === undefined ? 'names no node' : `names node ${node}, which is unknown`;
  const consequence =
    resolved.source === 'zone-field' ? `ranked by its zone field ${JSON.stringify(candidate.endpoint.zone)}` : 'ranked as matching nothing';
  const message = `endpoint ${candidate.address} ${unknownNode}; ${consequence}`;
  warn({ code: 'unknown-endpoint-node', kind: 'EndpointSlice', name: candidate.slice, message });
}

/**
 * Places eligible endpoints into tiers. RANDOM and STRICT have a single tier (for STRICT the
 * caller has already kept only this node's endpoints); FAILOVER ranks each endpoint by locality.
 */
export function placeInTiers(policy: Policy, eligible: readonly Candidate[], context: TierContext): PlannedTier[] {
  const placement = policy.placement;
  if (placement) {
    const buckets: Candidate[][] = Array.from({ length: placement.tiers }, () => []);
    for (const candidate of eligible) {
      const resolved = endpointLocality(context.snapshot, candidate.endpoint);
      warnAboutLocality(candidate, resolved, context.warn);
      const tier = placement.place(candidate.endpoint, resolved);
      if (tier !== undefined) buckets[tier]?.push(candidate);
    }
    return buckets.map(toTier);
  }
  if (policy.mode !== 'FAILOVER') return [toTier(eligible)];
  const buckets: Candidate[][] = Array.from({ length: failoverTierCount(policy.scopes) }, () => []);
  for (const candidate of eligible) {
    const resolved = endpointLocality(context.snapshot, candidate.endpoint);
    warnAboutLocality(candidate, resolved, context.warn);
    buckets[tierOf(context.client.locality, resolved.locality, policy.scopes)]?.push(candidate);
  }
  return buckets.map(toTier);
}
