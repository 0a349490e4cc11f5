/*
 * How many slots a Maglev table gets per tier. Istio's default (65537) would cost about 4 MiB of
 * kernel memory per tier and Service, and count[] in the service entry is a __u16; nearby uses a
 * smaller prime by default and caps what a rule may ask (docs/semantics.md states the cost).
 */

/** The table of a rule that names no size: ~100 slots per backend up to 10 backends. */
export const MAGLEV_DEFAULT_TABLE_SIZE = 1021;
/** The largest table a rule may ask for; a larger request is cut to it with a warning. */
export const MAGLEV_MAX_TABLE_SIZE = 4093;

function isPrime(n: number): boolean {
  if (n < 2) return false;
  for (let d = 2; d * d <= n; d++) if (n % d === 0) return false;
  return true;
}

/**
 * The table size for a request (undefined: the default): the largest prime at or below it and the
 * cap, since the population needs a prime so every backend's permutation covers the whole table.
 */
export function maglevTableSize(requested: number | undefined): { readonly size: number; readonly capped: boolean } {
  const wanted = requested ?? MAGLEV_DEFAULT_TABLE_SIZE;
  const capped = wanted > MAGLEV_MAX_TABLE_SIZE;
  let size = Math.min(wanted, MAGLEV_MAX_TABLE_SIZE);
  while (size > 2 && !isPrime(size)) size--;
  return { size: Math.max(size, 2), capped };
}
