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

function toTier(candidates: readonly Candidate[]): PlannedTier {
  // Ordered by address (numerically), then port; each sort key is worked out once.
  const keyed = candidates.map((c) => ({ key: addressSortKey(c.address), endpoint: toPlannedEndpoint(c) }));
  keyed.sort((a, b) => (a.key !== b.key ? (a.key < b.key ? -1 : 1) : a.endpoint.port - b.endpoint.port));
  return { endpoints: keyed.map((k) => k.endpoint) };
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
