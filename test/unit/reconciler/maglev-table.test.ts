// The Maglev table the reconciler writes as a MAGLEV tier's slots: even shares, minimal movement
// when a backend goes, and the same table whatever order the backends come in.
import { describe, expect, it } from 'vitest';
import { maglevTable } from '../../../pkg/reconciler/index.js';

const M = 1021;
const backends = (n: number): string[] => Array.from({ length: n }, (_, i) => `10.244.${i >> 8}.${i & 255}#8080`);
const self = (b: string): string => b;

function shares(table: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const b of table) counts.set(b, (counts.get(b) ?? 0) + 1);
  return counts;
}

describe('maglevTable', () => {
  it('fills every position, giving each of N backends M/N of them to within one', () => {
    for (const n of [1, 2, 3, 10, 64]) {
      const table = maglevTable(backends(n), self, M);
      expect(table).toHaveLength(M);
      const counts = shares(table);
      expect(counts.size).toBe(n);
      for (const c of counts.values()) expect(Math.abs(c - M / n)).toBeLessThanOrEqual(1);
    }
  });

  it('moves about 1/N of the positions when one of N backends goes, nearly all of them its own', () => {
    const all = backends(10);
    const before = maglevTable(all, self, M);
    for (const gone of all) {
      const after = maglevTable(
        all.filter((b) => b !== gone),
        self,
        M,
      );
      const moved = before.filter((b, i) => b !== after[i]).length;
      const ownMoved = before.filter((b) => b === gone).length;
      // Every position the removed backend held moves; of the others, only a few (Maglev trades
      // a little disruption for even shares).
      expect(moved).toBeGreaterThanOrEqual(ownMoved);
      expect(moved / M).toBeLessThan(0.15);
      expect(after.includes(gone)).toBe(false);
    }
  });

  it('is the same table whatever order the backends are listed in, and counts a repeated one once', () => {
    const all = backends(7);
    const table = maglevTable(all, self, M);
    expect(maglevTable([...all].reverse(), self, M)).toEqual(table);
    expect(maglevTable([...all, all[0]!], self, M)).toEqual(table);
  });

  it('is empty without backends and works for the smallest prime', () => {
    expect(maglevTable([], self, M)).toEqual([]);
    expect(new Set(maglevTable(backends(2), self, 2)).size).toBe(2);
  });
});
