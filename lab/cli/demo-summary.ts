/* The table the demo ends with: per step, what changed, what the seed expects, who answered. */
import { type CurlRound, describeRound } from './demo-curl.js';

export interface StepOutcome {
  readonly step: string;
  readonly what: string;
  readonly wanted: string;
  readonly round: CurlRound | undefined;
  /** What was seen, for a check that is not a curl round. */
  readonly seen?: string;
  readonly passed: boolean;
}

export function formatSummary(outcomes: readonly StepOutcome[]): string[] {
  const rows = [
    ['step', 'situation', 'expected', 'answers', 'result'],
    ...outcomes.map((o) => [o.step, o.what, o.wanted, o.round ? describeRound(o.round) : (o.seen ?? '-'), o.passed ? 'ok' : 'FAILED']),
  ];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const line = (r: string[]): string =>
    r
      .map((cell, c) => cell.padEnd(widths[c]!))
      .join(' | ')
      .trimEnd();
  return [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('-|-'), ...rows.slice(1).map(line)];
}
