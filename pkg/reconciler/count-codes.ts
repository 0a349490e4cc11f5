import type { CodeCounts } from './types.js';

/** How many of `items` carry each code: what the metrics label a pass's problems with. */
export function countCodes<Code extends string>(items: ReadonlyArray<{ readonly code: Code }>): CodeCounts<Code> {
  const counts: Partial<Record<Code, number>> = {};
  for (const { code } of items) counts[code] = (counts[code] ?? 0) + 1;
  return counts;
}
