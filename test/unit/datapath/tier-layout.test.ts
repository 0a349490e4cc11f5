// Slot layout under the consistency rules: simulate a racing reader after every single write.
import { describe, expect, it } from 'vitest';
import { layoutTier } from '../../../pkg/datapath/index.js';

/** Replays a layout the way the writer does and checks what a connect could see at each step. */
function replay(current: number[], desired: number[]): number[] {
  const { next, writes, deletes } = layoutTier(current, desired);
  const slots = new Map(current.map((id, i) => [i, id]));
  const allowed = new Set([...current, ...desired]);
  const visible = (count: number): number[] => Array.from({ length: count }, (_, i) => slots.get(i)!);
  for (const [index, id] of writes) {
    slots.set(index, id);
    // Before the count changes, every visible slot holds a backend that is old or new, never a gap.
    for (const seen of visible(current.length)) {
      expect(seen).toBeDefined();
      expect(allowed.has(seen)).toBe(true);
    }
  }
  // Publishing the new count makes exactly the desired set visible.
  expect(new Set(visible(next.length))).toEqual(new Set(desired));
  expect(visible(next.length)).toEqual([...next]);
  for (const index of deletes) {
    expect(index).toBeGreaterThanOrEqual(next.length);
    slots.delete(index);
  }
  expect(slots.size).toBe(next.length);
  return [...next];
}

describe('layoutTier', () => {
  const cases: Array<[string, number[], number[], number[], number]> = [
    // name, current, desired, expected next, expected write count
    ['grow from empty', [], [1, 2], [1, 2], 2],
    ['no change writes nothing', [1, 2, 3], [3, 2, 1], [1, 2, 3], 0],
    ['append keeps members in place', [1, 2], [1, 2, 3], [1, 2, 3], 1],
    ['remove from the middle moves the last into the hole (rule 3)', [1, 2, 3], [1, 3], [1, 3], 1],
    ['remove the last only lowers the count', [1, 2, 3], [1, 2], [1, 2], 0],
    ['replace fills the hole with the arrival', [1, 2, 3], [1, 4, 3], [1, 4, 3], 1],
    ['shrink to one', [1, 2, 3], [3], [3], 1],
    ['empty out', [1, 2], [], [], 0],
    ['duplicates in the desired list collapse', [], [5, 5, 6], [5, 6], 2],
    ['a slot found missing (0) is repaired', [1, 0, 3], [1, 2, 3], [1, 2, 3], 1],
  ];
  for (const [name, current, desired, next, writes] of cases) {
    it(name, () => {
      expect(replay(current, desired)).toEqual(next);
      expect(layoutTier(current, desired).writes).toHaveLength(writes);
    });
  }

  it('holds the rules for 2,000 random changes', () => {
    let seed = 42;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const pick = (): number[] => [...new Set(Array.from({ length: rand(9) }, () => 1 + rand(12)))];
    for (let i = 0; i < 2000; i++) replay(pick(), pick());
  });
});
