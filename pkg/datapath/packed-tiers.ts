/*
 * One service's backend ids, every tier in one flat array: the writer's mirror holds one per
 * service entry (up to 80,000), and an array per tier cost nine arrays each. Layout: MAX_TIERS
 * end offsets, then each tier's ids in slot order, so tier t is p[start(t) .. p[t]).
 * An id of 0 marks a slot found missing on read-back.
 */
import { MAX_TIERS } from './types.js';

export type PackedTiers = readonly number[];

export function packTiers(tiers: ReadonlyArray<readonly number[]>): number[] {
  let total = MAX_TIERS;
  for (let t = 0; t < MAX_TIERS; t++) total += tiers[t]?.length ?? 0;
  // Sized up front: an array grown by push keeps up to half again as much spare room.
  const packed = new Array<number>(total);
  let n = MAX_TIERS;
  for (let t = 0; t < MAX_TIERS; t++) {
    const tier = tiers[t];
    if (tier) for (const id of tier) packed[n++] = id;
    packed[t] = n;
  }
  return packed;
}

export function tierStart(p: PackedTiers, t: number): number {
  return t === 0 ? MAX_TIERS : p[t - 1]!;
}

export function tierEnd(p: PackedTiers, t: number): number {
  return p[t]!;
}

/** A copy of tier t's ids. */
export function tierIds(p: PackedTiers, t: number): number[] {
  return p.slice(tierStart(p, t), tierEnd(p, t));
}

export function tierCounts(p: PackedTiers): number[] {
  const counts: number[] = [];
  for (let t = 0; t < MAX_TIERS; t++) counts.push(tierEnd(p, t) - tierStart(p, t));
  return counts;
}

export function unpackTiers(p: PackedTiers): number[][] {
  return Array.from({ length: MAX_TIERS }, (_, t) => tierIds(p, t));
}

/** Every id of every tier, holes (0) included. */
export function forEachId(p: PackedTiers, visit: (id: number) => void): void {
  for (let i = MAX_TIERS; i < p.length; i++) visit(p[i]!);
}
