/*
 * Where each backend sits inside one tier's slot array, and which slot writes get it there.
 * Pure, so the ordering rules (docs/architecture.md, "Consistency rules", 2 and 3) are tested
 * without a kernel.
 *
 * Slots below the live count are visible to connects, so they are only ever overwritten with
 * another backend (never left empty); slots past it are invisible until the count is raised.
 * Members that stay keep their index, which keeps writes minimal under churn.
 */

export interface TierLayout {
  /** The slot array after the change; its length is the new count. */
  readonly next: readonly number[];
  /** Slot writes, by index, to do before the new count is published. */
  readonly writes: ReadonlyArray<readonly [index: number, backendId: number]>;
  /** Indices to delete after the new (lower) count is published. */
  readonly deletes: readonly number[];
}

/**
 * The slot array of a tier that had none (a new service): each backend once, in the order
 * first listed; every slot is a write. What layoutTier() gives for an empty tier, without
 * its sets and write list.
 */
export function firstLayout(desired: readonly number[]): number[] {
  const next: number[] = [];
  for (const id of desired) if (!next.includes(id)) next.push(id);
  return next;
}

export function layoutTier(current: readonly number[], desired: readonly number[]): TierLayout {
  if (current.length === 0) {
    const next = firstLayout(desired);
    return { next, writes: next.map((id, i) => [i, id] as const), deletes: [] };
  }
  const wanted = new Set(desired);
  const seen = new Set<number>();
  const holes: number[] = [];
  current.forEach((id, i) => {
    // A duplicate or an id no longer wanted frees its slot; id 0 marks a slot found missing.
    if (id === 0 || !wanted.has(id) || seen.has(id)) holes.push(i);
    else seen.add(id);
  });
  const arrivals = [...wanted].filter((id) => !seen.has(id));

  const next = current.slice();
  const changed = new Set<number>();
  let h = 0;
  // Fill holes with arrivals first: one write each, and no member has to move.
  for (; h < holes.length && arrivals.length > 0; h++) {
    next[holes[h]!] = arrivals.shift()!;
    changed.add(holes[h]!);
  }
  // Rule 3: close the remaining holes by moving members from the tail, then shorten.
  const remaining = new Set(holes.slice(h));
  let length = next.length - remaining.size;
  let tail = next.length - 1;
  for (const hole of holes.slice(h)) {
    if (hole >= length) continue;
    while (remaining.has(tail)) tail--;
    next[hole] = next[tail]!;
    changed.add(hole);
    tail--;
  }
  next.length = length;
  for (const id of arrivals) {
    changed.add(next.length);
    next.push(id);
  }
  length = next.length;

  const writes = [...changed].sort((a, b) => a - b).map((i) => [i, next[i]!] as const);
  const deletes: number[] = [];
  for (let i = length; i < current.length; i++) deletes.push(i);
  return { next, writes, deletes };
}

/**
 * The same for a tier whose slot positions mean something (a Maglev table): slot i must hold
 * desired[i], so only the positions whose backend changes are written, and none moves.
 */
export function layoutTable(current: readonly number[], desired: readonly number[]): TierLayout {
  const writes: Array<readonly [number, number]> = [];
  desired.forEach((id, i) => {
    if (current[i] !== id) writes.push([i, id]);
  });
  const deletes: number[] = [];
  for (let i = desired.length; i < current.length; i++) deletes.push(i);
  return { next: desired.slice(), writes, deletes };
}
