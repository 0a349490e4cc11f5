/*
 * What the agents make of the lab's objects, for `lab status`: each node's locality and each
 * Service's policy as the planner reads them from the objects the agents were given. The status
 * asks the planner rather than reading labels and spec fields itself, so it cannot disagree with
 * the agents (which subzone label wins, a policy from a namespace annotation, a value ignored).
 */
import { buildSnapshot } from '../pkg/model/index.js';
import { clientLocality, plan, type Locality, type PlanOptions } from '../pkg/planner/index.js';
import type { ServicePolicy } from './status.js';

export interface PlannedView {
  /** Per node: "region/zone/subzone" ('-' where unset; "network: ..." when one is set), null with no locality label. */
  readonly localities: ReadonlyMap<string, string | null>;
  /** Per "ns/name". */
  readonly policies: ReadonlyMap<string, ServicePolicy>;
}

export function localityText(locality: Locality): string | null {
  const { network, region, zone, subzone } = locality;
  if (!network && !region && !zone && !subzone) return null;
  const parts = [region || '-', zone || '-', subzone || '-'].join('/');
  return network ? `${network}: ${parts}` : parts;
}

/** "source: MODE over ..." -> the source; a reason without one is kept whole. */
function sourceOf(reason: string): string {
  const colon = reason.indexOf(': ');
  return colon < 0 ? reason : reason.slice(0, colon);
}

export function plannedView(objects: readonly unknown[], nodes: readonly string[], options: Partial<PlanOptions>): PlannedView {
  const { snapshot } = buildSnapshot(objects);
  const localities = new Map(nodes.map((n) => [n, localityText(clientLocality(snapshot, n).locality)] as const));
  const policies = new Map<string, ServicePolicy>();
  // A Service's policy does not depend on the client node (per-client rules are warned, never
  // applied), so one node's plan names every Service's.
  const first = nodes[0];
  if (first === undefined) return { localities, policies };
  const planned = plan(snapshot, first, options);
  const ignored = (key: string, namespace: string): string[] =>
    planned.warnings
      .filter(
        (w) =>
          w.code === 'unknown-policy' && ((w.kind === 'Service' && w.name === key) || (w.kind === 'Namespace' && w.name === namespace)),
      )
      .map((w) => `${w.kind} ${w.name}: ${w.message}`);
  for (const s of planned.services) {
    const namespace = s.service.split('/', 1)[0] ?? '';
    policies.set(s.service, { mode: s.mode, from: sourceOf(s.reason), ignored: ignored(s.service, namespace) });
  }
  for (const s of planned.skipped) policies.set(s.service, { mode: 'not intercepted', from: s.reason, ignored: [] });
  return { localities, policies };
}
