/*
 * Durations in flags: "off" or "0" for none, else a number with ms, s or m ("500ms", "30s", "2m").
 * A bare number is refused, so "30" is never read as 30 ms where 30 s was meant.
 */
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m)$/;
const UNIT_MS = { ms: 1, s: 1000, m: 60_000 } as const;

/** Milliseconds, 0 for off; undefined when the text is not a duration. */
export function parseDurationMs(text: string): number | undefined {
  if (text === 'off' || text === '0') return 0;
  const match = DURATION.exec(text);
  if (!match) return undefined;
  return Math.round(Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS]);
}
