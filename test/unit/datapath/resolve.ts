/*
 * What a connect can resolve, read from the maps the way the BPF program walks them: service
 * entry -> per-tier counts -> slots below the counts -> backends. Slots past the counts are
 * never looked at, so leftovers there do not show. Shapes compare by address:port per tier, in
 * any slot order: that is what decides where a connect goes.
 */
import {
  canonicalAddress,
  type DatapathMaps,
  KernelState,
  MAX_TIERS,
  type ProgrammedService,
  readSnapshot,
  serviceKeyText,
  type ServiceSpec,
  valueAt,
} from '../../../pkg/datapath/index.js';
import { backendValue } from '../../../pkg/datapath/codecs.js';
import { weightsOf } from '../../../pkg/datapath/mirror-service.js';

export interface Shape {
  readonly mode: string;
  readonly weights: readonly number[];
  /** Per tier, "address:port" sorted; MAX_TIERS of them. */
  readonly tiers: ReadonlyArray<readonly string[]>;
  /** Slots below a count that are missing or name a missing backend. */
  readonly holes: number;
}

const endpoint = (address: string, port: number): string => `${address}:${port}`;

/** Every published service, by key text. */
export function resolveAll(maps: DatapathMaps): Map<string, Shape> {
  const kernel = new KernelState(readSnapshot(maps));
  const out = new Map<string, Shape>();
  for (const entry of kernel.entries) {
    const { tiers, holes } = kernel.tiersOf(entry);
    const names = tiers.map((tier) =>
      tier
        .filter((id) => id !== 0)
        .map((id) => {
          const b = backendValue.decode(valueAt(kernel.snapshot.backends, kernel.backendRow(id)!));
          return endpoint(b.address, b.port);
        })
        .sort(),
    );
    out.set(serviceKeyText(kernel.serviceKey(entry)), { mode: entry.mode, weights: [...entry.weights], tiers: names, holes });
  }
  return out;
}

/** What applying `spec` should make a connect resolve (a backend listed twice in a tier takes one slot). */
export function shapeOfSpec(spec: ServiceSpec): Shape {
  const tiers = Array.from({ length: MAX_TIERS }, (_, t) =>
    [...new Set((spec.tiers[t] ?? []).map((b) => endpoint(canonicalAddress(b.address), b.port)))].sort(),
  );
  return { mode: spec.mode, weights: [...weightsOf(spec.weights)], tiers, holes: 0 };
}

export function shapeOfProgrammed(p: ProgrammedService): Shape {
  const tiers = Array.from({ length: MAX_TIERS }, (_, t) => (p.tiers[t] ?? []).map((b) => endpoint(b.address, b.port)).sort());
  return { mode: p.mode, weights: [...weightsOf(p.weights)], tiers, holes: 0 };
}

export function sameShape(a: Shape | undefined, b: Shape | undefined): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Whether `now` is safe though neither `before` nor `after`: the entry as before (mode, weights,
 * counts), every slot below a count filled, and each backend one the tier had before or will
 * have after. What an undo that could not finish leaves; drift repair finishes it.
 */
export function safeMix(now: Shape | undefined, before: Shape | undefined, after: Shape | undefined): boolean {
  if (!now || !before || now.holes > 0) return false;
  if (now.mode !== before.mode || JSON.stringify(now.weights) !== JSON.stringify(before.weights)) return false;
  return now.tiers.every((tier, t) => {
    if (tier.length !== before.tiers[t]!.length) return false;
    const allowed = new Set([...before.tiers[t]!, ...(after?.tiers[t] ?? [])]);
    return tier.every((e) => allowed.has(e));
  });
}
