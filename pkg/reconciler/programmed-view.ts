/*
 * The reconciler's view of what is programmed: per key, just the mode and backend ids the writer
 * reported, with running totals, so a pass that touches three services costs three services and
 * not ten thousand. The full state stays in the writer (get() asks it); a full pass resets this
 * view from the writer, which is the source of truth.
 *
 * It also works out the map writes a change implies (one service value, the slots that differ,
 * the backends no service used before): the writer does not count its own syscalls, and the
 * reconciler must not reach into it.
 */
import type { ModeName, ProgrammedService, ServiceKey } from '../datapath/types.js';
import { serviceKeyText } from './translate-keys.js';

interface Compact {
  readonly key: ServiceKey;
  readonly mode: ModeName;
  /** Backend ids per tier, in slot order, as [count of tier 0, ..., count of tier T-1, ids...]: one small array per service. */
  readonly slots: Uint32Array;
  readonly tierCount: number;
}

function compact(p: ProgrammedService): Compact {
  const total = p.tiers.reduce((n, t) => n + t.length, 0);
  const slots = new Uint32Array(p.tiers.length + total);
  let at = p.tiers.length;
  p.tiers.forEach((tier, t) => {
    slots[t] = tier.length;
    for (const b of tier) slots[at++] = b.id;
  });
  return { key: p.key, mode: p.mode, slots, tierCount: p.tiers.length };
}

/** Calls fn(tier, index, id) for every slot of a compact service. */
function forEachSlot(c: Compact, fn: (tier: number, index: number, id: number) => void): void {
  let at = c.tierCount;
  for (let t = 0; t < c.tierCount; t++) {
    const n = c.slots[t]!;
    for (let i = 0; i < n; i++) fn(t, i, c.slots[at++]!);
  }
}

function tierLength(c: Compact | undefined, tier: number): number {
  return c && tier < c.tierCount ? c.slots[tier]! : 0;
}

/** The backend id in a slot, or undefined past the tier's end. */
function slotAt(c: Compact | undefined, tier: number, index: number): number | undefined {
  if (!c || index >= tierLength(c, tier)) return undefined;
  let at = c.tierCount;
  for (let t = 0; t < tier; t++) at += c.slots[t]!;
  return c.slots[at + index];
}

export class ProgrammedView {
  private readonly services = new Map<string, Compact>();
  private readonly backendRefs = new Map<number, number>();
  private readonly modes = new Map<ModeName, number>();
  private readonly tierEndpoints = new Map<ModeName, number[]>();
  private readonly writes: Record<string, number> = {};

  reset(programmed: readonly ProgrammedService[]): void {
    this.services.clear();
    this.backendRefs.clear();
    this.modes.clear();
    this.tierEndpoints.clear();
    for (const p of programmed) this.add(serviceKeyText(p.key), compact(p));
  }

  /** The datapath key of a programmed service ("vip:port/proto" -> its ServiceKey). */
  keyOf(key: string): ServiceKey | undefined {
    return this.services.get(key)?.key;
  }

  has(key: string): boolean {
    return this.services.has(key);
  }

  keys(): IterableIterator<string> {
    return this.services.keys();
  }

  get size(): number {
    return this.services.size;
  }

  /** Records the outcome of an apply (`after`) or a remove (undefined), counting its writes. */
  record(key: string, after: ProgrammedService | undefined): void {
    const before = this.services.get(key);
    if (after) {
      const next = compact(after);
      this.count('services', 1);
      this.count('slots', changedSlots(before, next));
      forEachSlot(next, (_t, _i, id) => {
        if (!this.backendRefs.has(id)) this.count('backends', 1);
      });
      this.add(key, next);
    } else if (before) {
      this.count('services', 1);
      this.count('slots', before.slots.length - before.tierCount);
    }
    if (before) this.subtract(before);
    if (!after) this.services.delete(key);
  }

  /** Map writes recorded since the last call. */
  takeWrites(): Record<string, number> {
    const out = { services: 0, slots: 0, backends: 0, ...this.writes };
    for (const k of Object.keys(this.writes)) delete this.writes[k];
    return out;
  }

  servicesByMode(): Partial<Record<ModeName, number>> {
    return Object.fromEntries([...this.modes].filter(([, n]) => n > 0));
  }

  endpointsByModeTier(): Partial<Record<ModeName, number[]>> {
    return Object.fromEntries([...this.tierEndpoints].filter(([mode]) => (this.modes.get(mode) ?? 0) > 0).map(([m, t]) => [m, [...t]]));
  }

  private add(key: string, p: Compact): void {
    this.services.set(key, p);
    this.modes.set(p.mode, (this.modes.get(p.mode) ?? 0) + 1);
    let tiers = this.tierEndpoints.get(p.mode);
    if (!tiers) this.tierEndpoints.set(p.mode, (tiers = []));
    for (let t = 0; t < p.tierCount; t++) tiers[t] = (tiers[t] ?? 0) + p.slots[t]!;
    forEachSlot(p, (_t, _i, id) => this.backendRefs.set(id, (this.backendRefs.get(id) ?? 0) + 1));
  }

  private subtract(p: Compact): void {
    this.modes.set(p.mode, (this.modes.get(p.mode) ?? 0) - 1);
    const tiers = this.tierEndpoints.get(p.mode) ?? [];
    for (let t = 0; t < p.tierCount; t++) tiers[t] = (tiers[t] ?? 0) - p.slots[t]!;
    forEachSlot(p, (_t, _i, id) => {
      const refs = (this.backendRefs.get(id) ?? 0) - 1;
      if (refs > 0) this.backendRefs.set(id, refs);
      else this.backendRefs.delete(id);
    });
  }

  private count(map: string, n: number): void {
    this.writes[map] = (this.writes[map] ?? 0) + n;
  }
}

function changedSlots(before: Compact | undefined, after: Compact): number {
  let slots = 0;
  forEachSlot(after, (tier, index, id) => {
    if (slotAt(before, tier, index) !== id) slots++;
  });
  const tiers = Math.max(before?.tierCount ?? 0, after.tierCount);
  for (let t = 0; t < tiers; t++) slots += Math.max(0, tierLength(before, t) - tierLength(after, t));
  return slots;
}
