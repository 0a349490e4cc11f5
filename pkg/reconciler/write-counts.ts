/*
 * The map writes a change implies, worked out from the programmed state before and after it.
 * The writer does not count its own syscalls, and the reconciler must not reach into it; the
 * state difference gives the same numbers (one service value, the slots that differ, and the
 * backends no service used before).
 */
import type { ProgrammedService } from '../datapath/types.js';

export class WriteCounter {
  private readonly counts: Record<string, number> = { services: 0, slots: 0, backends: 0 };
  private readonly knownBackends: Set<number>;

  constructor(programmed: readonly ProgrammedService[]) {
    this.knownBackends = new Set(programmed.flatMap((s) => s.tiers.flatMap((t) => t.map((b) => b.id))));
  }

  applied(before: ProgrammedService | undefined, after: ProgrammedService): void {
    this.add('services', 1);
    const tiers = Math.max(before?.tiers.length ?? 0, after.tiers.length);
    for (let t = 0; t < tiers; t++) {
      const old = before?.tiers[t] ?? [];
      const next = after.tiers[t] ?? [];
      next.forEach((b, i) => {
        if (old[i]?.id !== b.id) this.add('slots', 1);
      });
      this.add('slots', Math.max(0, old.length - next.length));
    }
    for (const tier of after.tiers) {
      for (const b of tier) {
        if (this.knownBackends.has(b.id)) continue;
        this.knownBackends.add(b.id);
        this.add('backends', 1);
      }
    }
  }

  removed(before: ProgrammedService): void {
    this.add('services', 1);
    this.add('slots', before.tiers.reduce((n, t) => n + t.length, 0));
  }

  totals(): Record<string, number> {
    return { ...this.counts };
  }

  private add(map: string, n: number): void {
    this.counts[map] = (this.counts[map] ?? 0) + n;
  }
}
