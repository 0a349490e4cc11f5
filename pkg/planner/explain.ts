import { parseIp, type Endpoint, type EndpointConditions, type Snapshot } from '../model/index.js';
import { isReady, isServing, isTerminating } from './eligibility.js';
import { clientLocality, endpointLocality, type Locality, type ResolvedLocality } from './locality.js';
import { plan } from './plan.js';
import { rankEndpoint, type ScopeStep } from './rank.js';
import { DEFAULT_PLAN_OPTIONS, type PlanOptions, type PlannedService, type Scope } from './types.js';
import { networkOf } from './remote-network.js';

export interface Placement {
  readonly vip: string;
  readonly port: number;
  readonly protocol: 'TCP' | 'UDP';
  readonly tier: number;
}

export interface EndpointExplanation {
  readonly service: string;
  readonly address: string;
  /** Every (VIP, port) whose tiers hold the endpoint, and in which tier. */
  readonly placements: readonly Placement[];
  /** The reasoning, one sentence a line, for `nearbyctl explain`. */
  readonly lines: readonly string[];
}

const ALL_SCOPES: readonly Scope[] = ['network', 'region', 'zone', 'subzone', 'node'];

function showValue(value: string | null | undefined): string {
  return value === null || value === undefined ? '?' : JSON.stringify(value);
}

function showLocality(locality: Locality): string {
  return ALL_SCOPES.map((scope) => `${scope}=${showValue(locality[scope])}`).join(' ');
}

function showSource(resolved: ResolvedLocality): string {
  switch (resolved.source) {
    case 'node':
      return 'from its node labels';
    case 'zone-field':
      return 'from the EndpointSlice zone field, its node being unknown';
    case 'none':
      return 'unknown';
  }
}

function showConditions(conditions: EndpointConditions): string {
  const show = (value: boolean | undefined, meaning: boolean): string => (value === undefined ? `unset (so ${meaning})` : String(value));
  return [
    `ready=${show(conditions.ready, isReady(conditions))}`,
    `serving=${show(conditions.serving, isServing(conditions))}`,
    `terminating=${show(conditions.terminating, isTerminating(conditions))}`,
  ].join(' ');
}

function showStep(step: ScopeStep): string {
  const verdict = step.match ? (step.implied ? 'match (implied by a narrower match)' : 'match') : 'differ';
  return `${step.scope} ${showValue(step.client)} vs ${showValue(step.endpoint)}: ${verdict}`;
}

function findEndpoint(snapshot: Snapshot, serviceKey: string, address: string): Endpoint | undefined {
  for (const slice of snapshot.endpointSlices.get(serviceKey) ?? []) {
    const endpoint = slice.endpoints.find((e) => e.addresses[0] === address);
    if (endpoint) return endpoint;
  }
  return undefined;
}

function placementsOf(planned: PlannedService, address: string): Placement[] {
  const placements: Placement[] = [];
  for (const entry of planned.entries) {
    entry.tiers.forEach((tier, index) => {
      if (tier.endpoints.some((e) => e.address === address)) {
        placements.push({ vip: entry.vip, port: entry.port, protocol: entry.protocol, tier: index });
      }
    });
  }
  return placements;
}

function rankingLines(
  planned: PlannedService,
  client: ResolvedLocality,
  endpoint: ResolvedLocality,
  nodeName: string,
  endpointNode: string | undefined,
): string[] {
  switch (planned.mode) {
    case 'RANDOM':
      return ['RANDOM: every eligible endpoint shares tier 0'];
    case 'WEIGHTED':
      return [`WEIGHTED: tier weights ${(planned.weights ?? []).join(', ')}; each tier is one distribute.to locality`];
    case 'STRICT':
      return [
        endpointNode === nodeName
          ? 'STRICT: it runs on this node'
          : `STRICT: it runs on ${endpointNode ?? 'no known node'}, not on ${nodeName}, so it is never used here`,
      ];
    case 'FAILOVER': {
      if (planned.scopes.length === 0) return ["FAILOVER in the DestinationRule's order (see the reason above)"];
      const ranking = rankEndpoint(client.locality, endpoint.locality, planned.scopes);
      const lines = ranking.steps.map(showStep);
      if (ranking.otherNetwork) lines.push('another network: ranked below every endpoint of this network');
      lines.push(`rank ${ranking.rank} of ${planned.scopes.length} → tier ${ranking.tier}`);
      return lines;
    }
  }
}

/**
 * Why an endpoint of a Service sits in the tier it does for this node (or is not used at all).
 * It replans the whole node, so it is for operators, not for hot paths.
 */
export function explainEndpoint(
  snapshot: Snapshot,
  nodeName: string,
  serviceKey: string,
  addressText: string,
  options: Partial<PlanOptions> = {},
): EndpointExplanation {
  const address = parseIp(addressText)?.address ?? addressText;
  const answer = (lines: string[], placements: Placement[] = []): EndpointExplanation => ({
    service: serviceKey,
    address,
    placements,
    lines,
  });

  const nodePlan = plan(snapshot, nodeName, options);
  const skipped = nodePlan.skipped.find((s) => s.service === serviceKey);
  if (skipped) return answer([`Service ${serviceKey} is not intercepted: ${skipped.reason}`]);
  const planned = nodePlan.services.find((s) => s.service === serviceKey);
  if (!planned) return answer([`Service ${serviceKey} is not in the snapshot`]);

  const lines = [`Service ${serviceKey}: ${planned.reason}`];
  const client = clientLocality(snapshot, nodeName);
  lines.push(`this node ${nodeName}: ${showLocality(client.locality)} (${showSource(client)})`);

  const endpoint = findEndpoint(snapshot, serviceKey, address);
  if (!endpoint) return answer([...lines, `${address} is not an endpoint of ${serviceKey}`]);
  const resolved = endpointLocality(snapshot, endpoint);
  // Local endpoints are in the cluster named by PlanOptions.localCluster; only remote ones say theirs.
  const cluster = endpoint.cluster ?? options.localCluster ?? DEFAULT_PLAN_OPTIONS.localCluster;
  const where = endpoint.cluster === undefined ? '' : ` in remote cluster ${cluster}`;
  lines.push(
    `endpoint ${address} on node ${endpoint.nodeName ?? '?'}${where}: ${showLocality(resolved.locality)} (${showSource(resolved)})`,
  );
  if (endpoint.cluster !== undefined && networkOf(resolved) !== networkOf(client)) {
    lines.push(
      `remote cluster ${cluster} endpoint on network ${JSON.stringify(networkOf(resolved))}, not this node's ` +
        `${JSON.stringify(networkOf(client))}: skipped (it needs an east-west gateway, which nearby does not program)`,
    );
  }
  lines.push(`conditions: ${showConditions(endpoint.conditions)}`);
  if (endpoint.hints) {
    const { forZones, forNodes } = endpoint.hints;
    lines.push(
      `hints: forZones=${JSON.stringify(forZones)} forNodes=${JSON.stringify(forNodes)} (read only without another locality rule)`,
    );
  }
  lines.push(...rankingLines(planned, client, resolved, nodeName, endpoint.nodeName));

  const placements = placementsOf(planned, address);
  if (placements.length === 0) {
    lines.push(
      'not planned: it is not eligible (not ready while ready endpoints exist, or neither ready nor serving+terminating), ' +
        'not on this node under STRICT, left out by topology hints (see the reason above), or its slice lacks the Service port',
    );
  }
  for (const p of placements) lines.push(`planned in tier ${p.tier} of ${p.vip} port ${p.port}/${p.protocol}`);
  return answer(lines, placements);
}
