import type { Warning } from './types.js';

/** Plain code-unit order: stable across locales, unlike localeCompare. */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Collects warnings from every part of a planning run. The same problem is often met once per
 * VIP or per port; it is reported once, and in a stable order so plans diff cleanly.
 */
export class WarningSink {
  private readonly seen = new Map<string, Warning>();

  readonly add = (warning: Warning): void => {
    const key = `${warning.kind}\u0000${warning.name}\u0000${warning.message}`;
    if (!this.seen.has(key)) this.seen.set(key, warning);
  };

  sorted(): Warning[] {
    return [...this.seen.values()].sort(
      (a, b) => compareText(a.kind, b.kind) || compareText(a.name, b.name) || compareText(a.message, b.message),
    );
  }
}
