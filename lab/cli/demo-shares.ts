/*
 * Weighted shares of many connects, judged as a statistician would: each wanted share within
 * binomial bounds of so many standard deviations, nothing else answering, no failed connect. The
 * bounds must exclude an even split, or the check could not tell weights from none.
 */

export interface Shares {
  /** Connects per answering version. */
  readonly answers: Readonly<Record<string, number>>;
  /** Failed connects per error. */
  readonly failures: Readonly<Record<string, number>>;
}

const total = (counts: Readonly<Record<string, number>>): number => Object.values(counts).reduce((a, b) => a + b, 0);

/** [low, high] of a binomial count for n trials at share p, `sigmas` standard deviations each way. */
export function binomialBounds(n: number, p: number, sigmas: number): [number, number] {
  const sd = Math.sqrt(n * p * (1 - p));
  return [Math.ceil(n * p - sigmas * sd), Math.floor(n * p + sigmas * sd)];
}

export function formatShares(shares: Shares): string[] {
  const n = total(shares.answers) + total(shares.failures);
  const lines = Object.entries(shares.answers)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([version, count]) => `${version.padEnd(16)} ${String(count).padStart(5)}  ${((100 * count) / Math.max(1, n)).toFixed(1)}%`);
  for (const [error, count] of Object.entries(shares.failures)) lines.push(`failed: ${error} x${count}`);
  return lines;
}

export interface ShareVerdict {
  readonly passed: boolean;
  readonly wanted: string;
  readonly seen: string;
}

export function sharesWithin(shares: Shares, want: Readonly<Record<string, number>>, sigmas: number): ShareVerdict {
  const n = total(shares.answers);
  const even = n / Object.keys(want).length;
  const bounds = Object.entries(want).map(([version, p]) => ({ version, p, range: binomialBounds(n, p, sigmas) }));
  const inBounds = bounds.every(
    ({ version, range: [low, high] }) => (shares.answers[version] ?? 0) >= low && (shares.answers[version] ?? 0) <= high,
  );
  const discriminating = bounds.every(({ range: [low, high] }) => even < low || even > high);
  const nothingElse = Object.keys(shares.answers).every((v) => v in want);
  return {
    passed: n > 0 && inBounds && discriminating && nothingElse && total(shares.failures) === 0,
    wanted: bounds.map(({ version, range: [low, high] }) => `${version} ${low}..${high}`).join(', ') + ', no other answer, no failure',
    seen:
      Object.entries(shares.answers)
        .map(([v, c]) => `${v} ${c}`)
        .join(', ') + (total(shares.failures) > 0 ? `, ${total(shares.failures)} failed` : ''),
  };
}
