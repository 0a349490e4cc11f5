import type { Locality } from './locality.js';
import { MAX_TIERS, type Scope } from './types.js';

/** Every scope, widest first: a locality at one scope lies inside one locality of each wider one. */
const WIDEST_FIRST: readonly Scope[] = ['network', 'region', 'zone', 'subzone', 'node'];

export interface ScopeStep {
  readonly scope: Scope;
  /** null when unknown. */
  readonly client: string | null;
  readonly endpoint: string | null;
  readonly match: boolean;
  /** Matched only because a narrower scope matched (a side's value here is unknown). */
  readonly implied: boolean;
}

export interface Ranking {
  /** Number of matching scopes, not counting a mismatching network. */
  readonly rank: number;
  readonly otherNetwork: boolean;
  readonly tier: number;
  /** The scopes compared, up to and including the one that stopped the walk. */
  readonly steps: readonly ScopeStep[];
}

function startsWithNetwork(scopes: readonly Scope[]): boolean {
  return scopes[0] === 'network';
}

/** How many tiers a FAILOVER over these scopes needs; see PlannedEntry in types.ts. */
export function failoverTierCount(scopes: readonly Scope[]): number {
  const count = startsWithNetwork(scopes) ? 2 * scopes.length : scopes.length + 1;
  return Math.min(count, MAX_TIERS);
}

const NO_MATCH = 0;
const MATCH = 1;
/** Matched only because a narrower scope matched. */
const IMPLIED = 2;

function matchScope(scope: Scope, client: Locality, endpoint: Locality): number {
  const c = client[scope];
  const e = endpoint[scope];
  // Both known: plain equality, so two empty values match and empty never matches a value.
  if (c !== undefined && e !== undefined) return c === e ? MATCH : NO_MATCH;
  // One side is unknown here. That only happens for an endpoint known by its zone field or node
  // name alone; sharing a (non-empty) narrower scope still places it inside the same wider ones.
  for (let i = WIDEST_FIRST.indexOf(scope) + 1; i < WIDEST_FIRST.length; i++) {
    const narrower = WIDEST_FIRST[i]!;
    const value = client[narrower];
    if (value !== undefined && value !== '' && value === endpoint[narrower]) return IMPLIED;
  }
  return NO_MATCH;
}

/**
 * Walks the scopes widest first: each match adds one to the rank and the first mismatch stops the
 * walk. A different network (when network is the first scope) does not stop it: the rest is
 * still compared, and the endpoint then ranks below every same-network endpoint (ztunnel's rule).
 * Records each comparison in `steps` when given (explanations want them; planning does not).
 */
function walk(
  client: Locality,
  endpoint: Locality,
  scopes: readonly Scope[],
  steps?: ScopeStep[],
): { rank: number; otherNetwork: boolean } {
  const networkFirst = startsWithNetwork(scopes);
  let rank = 0;
  let otherNetwork = false;
  for (let i = 0; i < scopes.length; i++) {
    const scope = scopes[i]!;
    const match = matchScope(scope, client, endpoint);
    steps?.push({
      scope,
      client: client[scope] ?? null,
      endpoint: endpoint[scope] ?? null,
      match: match !== NO_MATCH,
      implied: match === IMPLIED,
    });
    if (match !== NO_MATCH) rank++;
    else if (i === 0 && networkFirst) otherNetwork = true;
    else break;
  }
  return { rank, otherNetwork };
}

function tierFor(rank: number, otherNetwork: boolean, scopes: readonly Scope[]): number {
  const n = scopes.length;
  const unclamped = otherNetwork ? n + (n - 1 - rank) : n - rank;
  return Math.min(unclamped, failoverTierCount(scopes) - 1);
}

/** The tier an endpoint goes to; rankEndpoint() says why. */
export function tierOf(client: Locality, endpoint: Locality, scopes: readonly Scope[]): number {
  const { rank, otherNetwork } = walk(client, endpoint, scopes);
  return tierFor(rank, otherNetwork, scopes);
}

export function rankEndpoint(client: Locality, endpoint: Locality, scopes: readonly Scope[]): Ranking {
  const steps: ScopeStep[] = [];
  const { rank, otherNetwork } = walk(client, endpoint, scopes, steps);
  return { rank, otherNetwork, tier: tierFor(rank, otherNetwork, scopes), steps };
}
