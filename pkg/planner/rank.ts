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

function compareScope(scope: Scope, client: Locality, endpoint: Locality): ScopeStep {
  const c = client[scope];
  const e = endpoint[scope];
  const known = { scope, client: c ?? null, endpoint: e ?? null };
  // Both known: plain equality, so two empty values match and empty never matches a value.
  if (c !== undefined && e !== undefined) return { ...known, match: c === e, implied: false };
  // One side is unknown here. That only happens for an endpoint known by its zone field or node
  // name alone; sharing a (non-empty) narrower scope still places it inside the same wider ones.
  const narrower = WIDEST_FIRST.slice(WIDEST_FIRST.indexOf(scope) + 1);
  const implied = narrower.some((n) => {
    const value = client[n];
    return value !== undefined && value !== '' && value === endpoint[n];
  });
  return { ...known, match: implied, implied };
}

/**
 * Walks the scopes widest first: each match adds one to the rank and the first mismatch stops the
 * walk. A different network (when network is the first scope) does not stop it: the rest is
 * still compared, and the endpoint then ranks below every same-network endpoint (ztunnel's rule).
 */
export function rankEndpoint(client: Locality, endpoint: Locality, scopes: readonly Scope[]): Ranking {
  const networkFirst = startsWithNetwork(scopes);
  const steps: ScopeStep[] = [];
  let rank = 0;
  let otherNetwork = false;
  for (const [i, scope] of scopes.entries()) {
    const step = compareScope(scope, client, endpoint);
    steps.push(step);
    if (step.match) {
      rank++;
    } else if (i === 0 && networkFirst) {
      otherNetwork = true;
    } else {
      break;
    }
  }
  const n = scopes.length;
  const unclamped = otherNetwork ? n + (n - 1 - rank) : n - rank;
  return { rank, otherNetwork, tier: Math.min(unclamped, failoverTierCount(scopes) - 1), steps };
}
