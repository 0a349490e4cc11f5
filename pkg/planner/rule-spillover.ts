/*
 * Which Services spill over gradually between tiers (docs/outlier-detection.md, "Gradual
 * spillover between tiers"), and the counts the kernel computes each tier's health from.
 *
 * FAILOVER-ranked Services only: STRICT never leaves tier 0, WEIGHTED already splits by weight,
 * RANDOM has one tier. Among those, the nearby.io/spillover annotation decides when present
 * ("true", "false", or an overprovisioning factor such as "1.4"); otherwise a Service with a
 * DestinationRule spills (Envoy's priority load, as Istio users expect) unless the agent's
 * --spillover flag is "off", and with "all" every FAILOVER Service does. trafficDistribution
 * alone keeps all-or-nothing failover by default.
 */
import { DEFAULT_OVERPROVISION_PERCENT } from '../contract/index.js';
import type { Service } from '../model/index.js';
import type { Candidate } from './candidates.js';
import { isTerminating } from './eligibility.js';
import type { Policy } from './policy.js';
import { placeInTiers, type TierContext } from './tiers.js';
import type { PlannedSpillover, PlannedTier, SpilloverScope, Warning } from './types.js';

export const SPILLOVER_ANNOTATION = 'nearby.io/spillover';

/** Factors above this leave every tier at full health with a single ready endpoint left. */
const MAX_FACTOR = 100;

type Choice = { readonly percent: number } | { readonly percent?: undefined };

function fromAnnotation(text: string, service: Service, warn: (w: Warning) => void): Choice | 'bad' {
  const value = text.trim().toLowerCase();
  if (value === 'true') return { percent: DEFAULT_OVERPROVISION_PERCENT };
  if (value === 'false') return {};
  const factor = /^\d+(\.\d+)?$/.test(value) ? Number(value) : NaN;
  if (factor >= 1 && factor <= MAX_FACTOR) return { percent: Math.round(factor * 100) };
  warn({
    code: 'bad-spillover-annotation',
    kind: 'Service',
    name: service.key,
    message:
      `annotation ${SPILLOVER_ANNOTATION}: ${JSON.stringify(text)} is not "true", "false" or a factor from 1 to ${MAX_FACTOR}; ` +
      'all-or-nothing failover',
  });
  return 'bad';
}

/**
 * The overprovisioning factor in percent when the Service spills over, else undefined. Warns
 * (bad-spillover-annotation) about an annotation it cannot read, and then keeps all-or-nothing.
 */
export function spilloverPercent(
  policy: Pick<Policy, 'mode'>,
  service: Service,
  hasRule: boolean,
  scope: SpilloverScope,
  warn: (w: Warning) => void,
): number | undefined {
  const text = service.annotations[SPILLOVER_ANNOTATION];
  const choice = text === undefined ? undefined : fromAnnotation(text, service, warn);
  if (policy.mode !== 'FAILOVER' || choice === 'bad') return undefined;
  if (choice) return choice.percent;
  if (scope === 'all' || (scope === 'destination-rules' && hasRule)) return DEFAULT_OVERPROVISION_PERCENT;
  return undefined;
}

/**
 * n and the ready count per tier. n counts the endpoints that are not terminating, ready or not,
 * placed in tiers as the ready ones are; ready counts the planned tier's ready endpoints (a
 * terminating fallback tier has none, so a Service left with only those fails over as FAILOVER).
 */
export function spilloverCounts(
  policy: Policy,
  pool: readonly Candidate[],
  tiers: readonly PlannedTier[],
  context: TierContext,
  overprovisionPercent: number,
): PlannedSpillover {
  // Warnings about these endpoints' localities were given when the eligible ones were placed.
  const quiet: TierContext = { ...context, warn: () => undefined };
  const counted = placeInTiers(
    policy,
    pool.filter((c) => !isTerminating(c.conditions)),
    quiet,
  );
  return {
    overprovisionPercent,
    endpoints: tiers.map((_, t) => counted[t]?.endpoints.length ?? 0),
    ready: tiers.map((tier) => tier.endpoints.filter((e) => !e.terminating).length),
  };
}
