/*
 * The writer's record of the service entries it programmed, by key text, with the totals the
 * agent's metrics report (services per mode, endpoints per mode and tier) kept as entries come
 * and go: reading them costs the number of modes, not of services.
 */
import { slotsAreTable } from './identity.js';
import type { MirrorService } from './mirror-service.js';
import { tierEnd, tierStart } from './packed-tiers.js';
import { MAX_TIERS, type ModeName } from './types.js';

export interface ProgrammedTotals {
  /** Programmed service entries per mode. */
  readonly servicesByMode: Partial<Record<ModeName, number>>;
  /** Programmed endpoints per mode and tier ("FAILOVER" -> [tier0, tier1, ...]). */
  readonly endpointsByModeTier: Partial<Record<ModeName, number[]>>;
}

export class ServiceMirror {
  private readonly byKey = new Map<string, MirrorService>();
  private readonly modes = new Map<ModeName, number>();
  private readonly tierEndpoints = new Map<ModeName, number[]>();

  get size(): number {
    return this.byKey.size;
  }

  get(key: string): MirrorService | undefined {
    return this.byKey.get(key);
  }

  has(key: string): boolean {
    return this.byKey.has(key);
  }

  keys(): IterableIterator<string> {
    return this.byKey.keys();
  }

  values(): IterableIterator<MirrorService> {
    return this.byKey.values();
  }

  set(key: string, entry: MirrorService): void {
    const before = this.byKey.get(key);
    if (before) this.count(before, -1);
    this.byKey.set(key, entry);
    this.count(entry, 1);
  }

  delete(key: string): void {
    const before = this.byKey.get(key);
    if (!before) return;
    this.count(before, -1);
    this.byKey.delete(key);
  }

  totals(): ProgrammedTotals {
    const live = [...this.modes].filter(([, n]) => n > 0);
    return {
      servicesByMode: Object.fromEntries(live),
      endpointsByModeTier: Object.fromEntries(live.map(([mode]) => [mode, [...this.tierEndpoints.get(mode)!]])),
    };
  }

  private count(entry: MirrorService, sign: 1 | -1): void {
    this.modes.set(entry.mode, (this.modes.get(entry.mode) ?? 0) + sign);
    let tiers = this.tierEndpoints.get(entry.mode);
    if (!tiers) this.tierEndpoints.set(entry.mode, (tiers = new Array<number>(MAX_TIERS).fill(0)));
    for (let t = 0; t < MAX_TIERS; t++) tiers[t]! += sign * endpointsIn(entry, t);
  }
}

/** Endpoints behind tier t: one per slot, or in a table (slotsAreTable) one per distinct backend. */
function endpointsIn(entry: MirrorService, t: number): number {
  const { tiers } = entry;
  const table = slotsAreTable(entry.balance) ? new Set<number>() : undefined;
  let n = 0;
  // Counted in place, no copy of the tier: a bulk load counts every service it programs.
  for (let i = tierStart(tiers, t); i < tierEnd(tiers, t); i++) {
    const id = tiers[i]!;
    // 0 is a slot lost before a restart: no endpoint behind it.
    if (id === 0) continue;
    if (table) table.add(id);
    else n++;
  }
  return table ? table.size : n;
}
