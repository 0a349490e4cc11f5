/*
 * What the writer remembers of one programmed service entry, and how it is shown to callers.
 * Backends live in the BackendTable; a service only names their ids.
 */
import { type PackedTiers, tierEnd, tierStart } from './packed-tiers.js';
import {
  type BalanceName,
  MAX_TIERS,
  type ModeName,
  type OutlierSpec,
  type ProgrammedBackend,
  type ProgrammedService,
  type ServiceKey,
  type SpilloverSpec,
} from './types.js';

export interface MirrorService {
  readonly key: ServiceKey;
  /** The spec's label ("ns/name" of the owning Service); '' for a service read back from the pins. */
  readonly label: string;
  readonly id: number;
  readonly mode: ModeName;
  readonly balance: BalanceName;
  readonly weights: readonly number[];
  /** Passive-ejection settings, as written to the outlier map; absent when none. */
  readonly outlier?: OutlierSpec;
  /** SPILLOVER's counts, as written in the entry; absent when none. */
  readonly spillover?: SpilloverSpec;
  /** Session affinity timeout in seconds, as in the service value; absent when none. */
  readonly affinitySeconds?: number;
  /** Backend ids per tier, index = slot index; 0 marks a slot found missing on read-back. */
  readonly tiers: PackedTiers;
}

/** Most services have no weights: they all share this one array. */
export const NO_WEIGHTS: readonly number[] = Object.freeze(new Array<number>(MAX_TIERS).fill(0));

export function weightsOf(weights: ArrayLike<number> | undefined): readonly number[] {
  let any = false;
  for (let t = 0; t < MAX_TIERS && !any; t++) any = (weights?.[t] ?? 0) !== 0;
  if (!any) return NO_WEIGHTS;
  const out: number[] = [];
  for (let t = 0; t < MAX_TIERS; t++) out.push(weights?.[t] ?? 0);
  return out;
}

/** Where toProgrammed() finds a backend by id: the BackendTable, or a caller that knows better. */
export interface ProgrammedBackends {
  programmed(id: number): ProgrammedBackend | undefined;
}

export function toProgrammed(s: MirrorService, backends: ProgrammedBackends): ProgrammedService {
  return {
    key: s.key,
    id: s.id,
    mode: s.mode,
    balance: s.balance,
    weights: s.weights,
    tiers: tiersOf(s, backends),
    ...(s.outlier ? { outlier: s.outlier } : {}),
    ...(s.spillover ? { spillover: s.spillover } : {}),
    ...(s.affinitySeconds ? { affinitySeconds: s.affinitySeconds } : {}),
  };
}

/**
 * toProgrammed() with the tiers built when first read, for a bulk load's result: its caller
 * reads the keys, and one object per endpoint made for nothing cost a bulk load more than
 * planning it (docs/performance.md, "The writer against C"). `backends` must answer later as
 * it does now: a bulk plan's own rows, never a table that changes.
 */
export function toProgrammedLazily(s: MirrorService, backends: ProgrammedBackends): ProgrammedService {
  let tiers: ProgrammedBackend[][] | undefined;
  return {
    key: s.key,
    id: s.id,
    mode: s.mode,
    balance: s.balance,
    weights: s.weights,
    get tiers() {
      return (tiers ??= tiersOf(s, backends));
    },
    ...(s.outlier ? { outlier: s.outlier } : {}),
    ...(s.spillover ? { spillover: s.spillover } : {}),
    ...(s.affinitySeconds ? { affinitySeconds: s.affinitySeconds } : {}),
  };
}

function tiersOf(s: MirrorService, backends: ProgrammedBackends): ProgrammedBackend[][] {
  const tiers: ProgrammedBackend[][] = [];
  for (let t = 0; t < MAX_TIERS; t++) {
    const tier: ProgrammedBackend[] = [];
    for (let i = tierStart(s.tiers, t); i < tierEnd(s.tiers, t); i++) {
      const b = backends.programmed(s.tiers[i]!);
      if (b) tier.push(b);
    }
    tiers.push(tier);
  }
  return tiers;
}
