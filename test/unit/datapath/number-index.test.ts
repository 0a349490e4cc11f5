// The writer's typed-array hash index, against a Map doing the same random operations: keys
// as large as IPv4 address:port keys get, many colliding, through growth and deletions.
import { describe, expect, it } from 'vitest';
import { NumberIndex } from '../../../pkg/datapath/number-index.js';

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 0x100000000;
  };
}

// A small key space forces collisions, long probe runs and deletes inside them: address:port
// keys for a hashed index, ids 64 apart (and some past 2^32 - 1) for a dense one.
const KEY_SETS = {
  mixed: Array.from({ length: 3000 }, (_, i) => (0x0a800000 + i) * 65536 + 8080 + (i % 7)),
  dense: Array.from({ length: 3000 }, (_, i) => (i < 100 ? 0xffffffff - i : 1 + i * 64)),
} as const;

describe('NumberIndex', () => {
  it.each(['mixed', 'dense'] as const)('agrees with a Map over 50,000 random sets, gets and deletes (%s keys)', (order) => {
    const random = seeded(7);
    const index = new NumberIndex(16, order);
    const model = new Map<number, number>();
    const keys = KEY_SETS[order];
    for (let op = 0; op < 50_000; op++) {
      const key = keys[Math.floor(random() * keys.length)]!;
      const r = random();
      if (r < 0.5) {
        const value = Math.floor(random() * 0xffffffff);
        index.set(key, value);
        model.set(key, value);
      } else if (r < 0.8) {
        expect(index.delete(key)).toBe(model.delete(key));
      } else {
        expect(index.get(key)).toBe(model.get(key));
      }
      expect(index.size).toBe(model.size);
    }
    for (const key of keys) expect(index.get(key)).toBe(model.get(key));
    const seen = new Map<number, number>();
    index.forEach((value, key) => seen.set(key, value));
    expect(seen).toEqual(model);
  });

  it('keeps keys up to 2^48 apart that a 32-bit hash would merge', () => {
    const index = new NumberIndex();
    const a = 0xffffffff * 65536 + 65535;
    const b = 65535; // the same low 16 bits
    index.set(a, 1);
    index.set(b, 2);
    expect([index.get(a), index.get(b), index.get(a - 1)]).toEqual([1, 2, undefined]);
  });

  it('refuses 0 and non-integers, which would break its empty-slot marker', () => {
    const index = new NumberIndex();
    expect(() => index.set(0, 1)).toThrow(RangeError);
    expect(() => index.set(1.5, 1)).toThrow(RangeError);
  });

  it('makes room up front', () => {
    const index = new NumberIndex(16);
    index.reserve(10_000);
    for (let k = 1; k <= 10_000; k++) index.set(k, k);
    expect(index.size).toBe(10_000);
    expect(index.get(9_999)).toBe(9_999);
  });
});
