/*
 * Plan -> datapath ServiceSpecs: one spec per planned (VIP, port, protocol). This is the only
 * place where planner vocabulary meets datapath vocabulary.
 */
import { type BackendSpec, type ModeName, serviceKeyText, type ServiceSpec } from '../datapath/index.js';
import type { Mode, PlannedEntry, PlannedService } from '../planner/index.js';
import { maglevTable } from './maglev-table.js';
import type { NodeIds } from './node-ids.js';

const MODES: Readonly<Record<Mode, ModeName>> = {
  RANDOM: 'RANDOM',
  FAILOVER: 'FAILOVER',
  STRICT: 'STRICT',
  WEIGHTED: 'WEIGHTED',
};

export interface DesiredService {
  /** serviceKeyText(spec.key) */
  readonly id: string;
  readonly spec: ServiceSpec;
}

/** A second Service claiming a VIP, port and protocol already taken by an earlier one. */
export interface VipConflict {
  readonly service: string;
  readonly key: string;
  readonly owner: string;
}

/** Most tiers are empty; they all share this one, since specs are kept for every Service. */
const EMPTY_TIER: readonly BackendSpec[] = Object.freeze([]);

/** A backend's identity for the Maglev permutation: the same on every node and after restarts. */
export const maglevBackendIdentity = (b: BackendSpec): string => `${b.address}#${b.port}`;

function toSpec(label: string, mode: ModeName, entry: PlannedEntry, nodeIds: NodeIds, weights?: readonly number[]): ServiceSpec {
  const tiers = entry.tiers.map((tier) => {
    if (tier.endpoints.length === 0) return EMPTY_TIER;
    const backends = tier.endpoints.map((e): BackendSpec => ({
      address: e.address,
      port: e.port,
      nodeId: nodeIds.idOf(e.node),
      terminating: e.terminating,
    }));
    // MAGLEV: the tier's slots are its lookup table (bpf/nearby.h, NEARBY_BALANCE_MAGLEV).
    return entry.balance === 'MAGLEV' && entry.maglevTableSize
      ? maglevTable(backends, maglevBackendIdentity, entry.maglevTableSize)
      : backends;
  });
  const key = { address: entry.vip, port: entry.port, protocol: entry.protocol };
  // The usual spec, with no optional field, as one literal: spreads cost more, and a spec is kept
  // per Service for as long as it is wanted.
  const plain =
    !weights && !entry.balance && !entry.outlier && !entry.spillover && entry.sessionAffinitySeconds === undefined && !entry.exclusive;
  if (plain) return { key, label, mode, tiers };
  return {
    key,
    label,
    mode,
    tiers,
    ...(weights ? { weights } : {}),
    ...(entry.balance ? { balance: entry.balance } : {}),
    ...(entry.outlier ? { outlier: entry.outlier } : {}),
    ...(entry.spillover ? { spillover: entry.spillover } : {}),
    ...(entry.sessionAffinitySeconds !== undefined ? { affinitySeconds: entry.sessionAffinitySeconds } : {}),
    ...(entry.exclusive ? { exclusive: true as const } : {}),
  };
}

/**
 * One planned Service as datapath specs, one per (VIP, port, protocol), in entry order. A
 * PASSTHROUGH entry has none: nothing programmed is what leaves its connects alone.
 */
export function serviceSpecs(service: PlannedService, nodeIds: NodeIds): DesiredService[] {
  return service.entries
    .filter((entry) => !entry.passthrough)
    .map((entry) => {
      // FAILOVER with priority load: the kernel draws the tier (bpf/nearby.h, NEARBY_MODE_SPILLOVER).
      const mode = entry.spillover ? 'SPILLOVER' : MODES[service.mode];
      const spec = toSpec(service.service, mode, entry, nodeIds, service.weights);
      return { id: serviceKeyText(spec.key), spec };
    });
}
