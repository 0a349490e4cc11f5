/*
 * Endpoint conditions take one of 27 values (each of ready, serving and terminating is true,
 * false or unset). One frozen object per value is shared by every endpoint that has it, in the
 * model and in the sources' caches: 100,000 endpoints then hold 100,000 pointers, not 100,000
 * small objects.
 */
import type { EndpointConditions } from './types.js';

const SHARED = new Array<EndpointConditions | undefined>(27);
const ALL = new Set<EndpointConditions>();

const tri = (v: boolean | undefined): number => (v === undefined ? 0 : v ? 1 : 2);

export function sharedConditions(
  ready: boolean | undefined,
  serving: boolean | undefined,
  terminating: boolean | undefined,
): EndpointConditions {
  const id = tri(ready) * 9 + tri(serving) * 3 + tri(terminating);
  let conditions = SHARED[id];
  if (!conditions) {
    const c: { ready?: boolean; serving?: boolean; terminating?: boolean } = {};
    if (ready !== undefined) c.ready = ready;
    if (serving !== undefined) c.serving = serving;
    if (terminating !== undefined) c.terminating = terminating;
    SHARED[id] = conditions = Object.freeze(c);
    ALL.add(conditions);
  }
  return conditions;
}

/** True for one of the shared objects, which are valid conditions by construction. */
export function isSharedConditions(value: unknown): value is EndpointConditions {
  return ALL.has(value as EndpointConditions);
}

const CONDITION_FIELDS: ReadonlySet<string> = new Set(['ready', 'serving', 'terminating']);

/**
 * The shared object equal to a raw conditions record, or undefined when the record has anything
 * but optional booleans (null reads as unset, as in the model) (the model then rejects it with the reason).
 */
export function shareRawConditions(raw: Readonly<Record<string, unknown>>): EndpointConditions | undefined {
  for (const [field, value] of Object.entries(raw)) {
    if (!CONDITION_FIELDS.has(field)) return undefined;
    if (value !== undefined && value !== null && typeof value !== 'boolean') return undefined;
  }
  const flag = (field: string): boolean | undefined => (raw[field] ?? undefined) as boolean | undefined;
  return sharedConditions(flag('ready'), flag('serving'), flag('terminating'));
}
