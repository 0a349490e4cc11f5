import { describe, expect, it } from 'vitest';
import { forEachId, packTiers, tierCounts, tierIds, unpackTiers } from '../../../pkg/datapath/packed-tiers.js';

describe('packed tiers', () => {
  it('round-trips tiers, empty ones and holes included', () => {
    const tiers = [[3, 1], [], [0, 9, 4], [], [], [], [], [7]];
    const packed = packTiers(tiers);
    expect(packed).toHaveLength(8 + 6);
    expect(unpackTiers(packed)).toEqual(tiers);
    expect(tierCounts(packed)).toEqual([2, 0, 3, 0, 0, 0, 0, 1]);
    expect(tierIds(packed, 2)).toEqual([0, 9, 4]);
    const ids: number[] = [];
    forEachId(packed, (id) => ids.push(id));
    expect(ids).toEqual([3, 1, 0, 9, 4, 7]);
  });

  it('treats missing tiers as empty', () => {
    expect(unpackTiers(packTiers([[5]]))).toEqual([[5], [], [], [], [], [], [], []]);
  });
});
