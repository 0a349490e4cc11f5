/*
 * Maglev's lookup table (Eisenbud et al., NSDI 2016): each backend walks its own permutation of
 * the table's positions and the backends take turns claiming the next free one, so each ends up
 * with about size/N positions, and removing one backend frees only its own positions (about 1/N
 * of the table); the others keep theirs, give or take a few. The kernel hashes a client to a
 * position, so a client changes backend only when its position does.
 *
 * A backend's permutation comes from its identity alone (address:port), never from the order it
 * was listed in or an id the agent assigned, so every agent builds the same table after restarts.
 */

/** 32-bit FNV-1a over the text, seeded, then murmur3's finalizer to spread the low bits. */
function hash32(text: string, seed: number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const OFFSET_SEED = 0;
const SKIP_SEED = 0x9e3779b9;

/**
 * The table of `size` positions (a prime, or the permutations do not cover it) over `backends`,
 * each position one of them. Backends with the same identity count once; the order given does
 * not matter. No backends: an empty table.
 */
export function maglevTable<T>(backends: readonly T[], identity: (backend: T) => string, size: number): T[] {
  const byIdentity = new Map<string, T>();
  for (const b of backends) if (!byIdentity.has(identity(b))) byIdentity.set(identity(b), b);
  const keys = [...byIdentity.keys()].sort();
  if (keys.length === 0) return [];
  const offsets = keys.map((k) => hash32(k, OFFSET_SEED) % size);
  const skips = keys.map((k) => (size > 1 ? (hash32(k, SKIP_SEED) % (size - 1)) + 1 : 1));
  const next = new Array<number>(keys.length).fill(0);
  const owner = new Int32Array(size).fill(-1);
  let filled = 0;
  while (filled < size) {
    for (let i = 0; i < keys.length && filled < size; i++) {
      let position = (offsets[i]! + next[i]! * skips[i]!) % size;
      while (owner[position]! >= 0) {
        next[i]!++;
        position = (offsets[i]! + next[i]! * skips[i]!) % size;
      }
      owner[position] = i;
      next[i]!++;
      filled++;
    }
  }
  const chosen = keys.map((k) => byIdentity.get(k)!);
  return Array.from(owner, (i) => chosen[i]!);
}
