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
  /** Backend ids per tier, in slot order. */
  readonly tiers: ReadonlyArray<Uint32Array>;
}

function compact(p: ProgrammedService): Compact {
  return { key: p.key, mode: p.mode, tiers: p.tiers.map((tier) => Uint32Array.from(tier, (b) => b.id)) };
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
      for (const tier of next.tiers) for (const id of tier) if (!this.backendRefs.has(id)) this.count('backends', 1);
      this.add(key, next);
    } else if (before) {
      this.count('services', 1);
      this.count('slots', before.tiers.reduce((n, t) => n + t.length, 0));
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
    p.tiers.forEach((tier, t) => {
      tiers[t] = (tiers[t] ?? 0) + tier.length;
      for (const id of tier) this.backendRefs.set(id, (this.backendRefs.get(id) ?? 0) + 1);
    });
  }

  private subtract(p: Compact): void {
    this.modes.set(p.mode, (this.modes.get(p.mode) ?? 0) - 1);
    const tiers = this.tierEndpoints.get(p.mode) ?? [];
    p.tiers.forEach((tier, t) => {
      tiers[t] = (tiers[t] ?? 0) - tier.length;
      for (const id of tier) {
        const refs = (this.backendRefs.get(id) ?? 0) - 1;
        if (refs > 0) this.backendRefs.set(id, refs);
        else this.backendRefs.delete(id);
      }
    });
  }

  private count(map: string, n: number): void {
    this.writes[map] = (this.writes[map] ?? 0) + n;
  }
}

function changedSlots(before: Compact | undefined, after: Compact): number {
  let slots = 0;
  const tiers = Math.max(before?.tiers.length ?? 0, after.tiers.length);
  for (let t = 0; t < tiers; t++) {
    const old = before?.tiers[t];
    const next = after.tiers[t];
    const n = next?.length ?? 0;
    for (let i = 0; i < n; i++) if (old?.[i] !== next![i]) slots++;
    slots += Math.max(0, (old?.length ?? 0) - n);
  }
  return slots;
}
