import type { EndpointConditions } from '../model/index.js';

/** An unset ready condition means ready (EndpointSlice API). */
export function isReady(conditions: EndpointConditions): boolean {
  return conditions.ready !== false;
}

/** An unset serving condition takes the ready condition's value. */
export function isServing(conditions: EndpointConditions): boolean {
  return conditions.serving ?? isReady(conditions);
}

export function isTerminating(conditions: EndpointConditions): boolean {
  return conditions.terminating === true;
}

/** May take traffic only when nothing ready is left (KEP-1669). */
export function isServingTerminating(conditions: EndpointConditions): boolean {
  return isServing(conditions) && isTerminating(conditions);
}

/** 0 ready, 1 serving+terminating, 2 unusable: lower is better, for deduplication. */
export function usability(conditions: EndpointConditions): 0 | 1 | 2 {
  if (isReady(conditions)) return 0;
  return isServingTerminating(conditions) ? 1 : 2;
}

/**
 * The endpoints that may take traffic: the ready ones, or when none is ready the serving and
 * terminating ones, so a rolling update never leaves a Service with nowhere to go.
 */
export function selectEligible<T extends { readonly conditions: EndpointConditions }>(candidates: readonly T[]): T[] {
  const ready = candidates.filter((c) => isReady(c.conditions));
  return ready.length > 0 ? ready : candidates.filter((c) => isServingTerminating(c.conditions));
}
