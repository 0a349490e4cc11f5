import type { Snapshot } from '../model/index.js';
import { clientLocality } from './locality.js';
import { planService, type ServiceOutcome } from './plan-service.js';
import { DEFAULT_PLAN_OPTIONS, type Plan, type PlannedService, type PlanOptions, type SkippedService, type Warning } from './types.js';
import { compareText, WarningSink } from './warnings.js';

/** One Service's part of a plan: its outcome (none once the Service is gone) and its warnings. */
export interface ServicePlan {
  readonly outcome: ServiceOutcome | undefined;
  readonly warnings: readonly Warning[];
}

/** Warnings about the node itself rather than any one Service. */
export function nodeWarnings(snapshot: Snapshot, nodeName: string): Warning[] {
  if (snapshot.nodes.has(nodeName)) return [];
  const message = 'this node is not in the snapshot, so only endpoints on it are known to be close';
  return [{ code: 'unknown-client-node', kind: 'Node', name: nodeName, message }];
}

/**
 * Plans one Service for one node. A Service's plan depends only on that Service, its namespace,
 * its EndpointSlices, this node and the Nodes its endpoints name, so callers may keep plans and
 * redo only those whose inputs changed. plan() is this, for every Service.
 */
export function planOne(snapshot: Snapshot, nodeName: string, serviceKey: string, options: Partial<PlanOptions> = {}): ServicePlan {
  const service = snapshot.services.get(serviceKey);
  if (!service) return { outcome: undefined, warnings: [] };
  const warnings = new WarningSink();
  const outcome = planService(service, {
    snapshot,
    nodeName,
    client: clientLocality(snapshot, nodeName),
    options: { ...DEFAULT_PLAN_OPTIONS, ...options },
    warn: warnings.add,
  });
  return { outcome, warnings: warnings.sorted() };
}

/**
 * The datapath state one node should hold: for every Service with a VIP, its mode and, per
 * (VIP, port), its endpoints in tiers, closest first. Pure: the same snapshot, node and options
 * always give the same plan.
 */
export function plan(snapshot: Snapshot, nodeName: string, options: Partial<PlanOptions> = {}): Plan {
  const warnings = new WarningSink();
  nodeWarnings(snapshot, nodeName).forEach(warnings.add);
  const services: PlannedService[] = [];
  const skipped: SkippedService[] = [];
  for (const key of [...snapshot.services.keys()].sort(compareText)) {
    const { outcome, warnings: found } = planOne(snapshot, nodeName, key, options);
    found.forEach(warnings.add);
    if (outcome?.planned) services.push(outcome.planned);
    else if (outcome?.skipped) skipped.push(outcome.skipped);
  }
  return { node: nodeName, services, skipped, warnings: warnings.sorted() };
}
