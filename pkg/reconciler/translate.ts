/*
 * Plan -> datapath ServiceSpecs: one spec per planned (VIP, port, protocol). This is the only
 * place where planner vocabulary meets datapath vocabulary.
 */
import type { BackendSpec, ModeName, ServiceSpec } from '../datapath/types.js';
import type { Mode, Plan, PlannedEntry, PlannedService } from '../planner/index.js';
import type { NodeIds } from './node-ids.js';
import { serviceKeyText } from './translate-keys.js';

const MODES: Readonly<Record<Mode, ModeName>> = { RANDOM: 'RANDOM', FAILOVER: 'FAILOVER', STRICT: 'STRICT' };

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

export interface Translation {
  /** In plan order: by Service name, then VIP, port and protocol. */
  readonly desired: readonly DesiredService[];
  readonly conflicts: readonly VipConflict[];
  /** Every node an endpoint names: their ids must survive until the next pass. */
  readonly nodes: ReadonlySet<string>;
}

/** Most tiers are empty; they all share this one, since specs are kept for every Service. */
const EMPTY_TIER: readonly BackendSpec[] = Object.freeze([]);

function toSpec(label: string, mode: ModeName, entry: PlannedEntry, nodeIds: NodeIds): ServiceSpec {
  const tiers = entry.tiers.map((tier) =>
    tier.endpoints.length === 0
      ? EMPTY_TIER
      : tier.endpoints.map(
          (e): BackendSpec => ({ address: e.address, port: e.port, nodeId: nodeIds.idOf(e.node), terminating: e.terminating }),
        ),
  );
  return { key: { address: entry.vip, port: entry.port, protocol: entry.protocol }, label, mode, tiers };
}

/** One planned Service as datapath specs, one per (VIP, port, protocol), in entry order. */
export function serviceSpecs(service: PlannedService, nodeIds: NodeIds): DesiredService[] {
  return service.entries.map((entry) => {
    const spec = toSpec(service.service, MODES[service.mode], entry, nodeIds);
    return { id: serviceKeyText(spec.key), spec };
  });
}

/** Node names a spec's backends were numbered from, so their ids can be kept alive. */
export function plannedNodes(service: PlannedService, into: Set<string>): void {
  for (const entry of service.entries) for (const tier of entry.tiers) for (const e of tier.endpoints) if (e.node) into.add(e.node);
}

export function translatePlan(plan: Plan, nodeIds: NodeIds): Translation {
  const desired: DesiredService[] = [];
  const conflicts: VipConflict[] = [];
  const owners = new Map<string, string>();
  const nodes = new Set<string>();
  for (const service of plan.services) {
    plannedNodes(service, nodes);
    for (const d of serviceSpecs(service, nodeIds)) {
      // The API server never allocates one ClusterIP twice, but a manifest directory can; the
      // first Service by name keeps the VIP so the outcome does not depend on event order.
      const owner = owners.get(d.id);
      if (owner !== undefined) {
        conflicts.push({ service: service.service, key: d.id, owner });
        continue;
      }
      owners.set(d.id, service.service);
      desired.push(d);
    }
  }
  return { desired, conflicts, nodes };
}
