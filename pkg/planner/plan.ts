import type { Snapshot } from '../model/index.js';
import { clientLocality } from './locality.js';
import { planService } from './plan-service.js';
import { DEFAULT_PLAN_OPTIONS, type Plan, type PlannedService, type PlanOptions, type SkippedService } from './types.js';
import { compareText, WarningSink } from './warnings.js';

/**
 * The datapath state one node should hold: for every Service with a VIP, its mode and, per
 * (VIP, port), its endpoints in tiers, closest first. Pure: the same snapshot, node and options
 * always give the same plan.
 */
export function plan(snapshot: Snapshot, nodeName: string, options: Partial<PlanOptions> = {}): Plan {
  const resolvedOptions: PlanOptions = { ...DEFAULT_PLAN_OPTIONS, ...options };
  const warnings = new WarningSink();
  const client = clientLocality(snapshot, nodeName);
  if (client.source !== 'node') {
    warnings.add({
      kind: 'Node',
      name: nodeName,
      message: 'this node is not in the snapshot, so only endpoints on it are known to be close',
    });
  }

  const services: PlannedService[] = [];
  const skipped: SkippedService[] = [];
  const keys = [...snapshot.services.keys()].sort(compareText);
  for (const key of keys) {
    const service = snapshot.services.get(key);
    if (!service) continue;
    const outcome = planService(service, { snapshot, nodeName, client, options: resolvedOptions, warn: warnings.add });
    if (outcome.planned) services.push(outcome.planned);
    else skipped.push(outcome.skipped);
  }
  return { node: nodeName, services, skipped, warnings: warnings.sorted() };
}
