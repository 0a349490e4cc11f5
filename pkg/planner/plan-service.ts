import type { Namespace, Service, ServicePort, Snapshot } from '../model/index.js';
import { findCandidates } from './candidates.js';
import { selectEligible } from './eligibility.js';
import type { ResolvedLocality } from './locality.js';
import { choosePolicy } from './policy.js';
import { balanceFor, l7Warnings } from './rule-balance.js';
import { localityPolicy } from './rule-locality.js';
import { chooseRule, choiceWarnings } from './rule-match.js';
import { outlierFor } from './rule-outlier.js';
import { spilloverCounts, spilloverPercent } from './rule-spillover.js';
import { placeInTiers } from './tiers.js';
import type { PlannedEntry, PlannedService, PlanOptions, SkippedService, Warning } from './types.js';

export interface ServiceContext {
  readonly snapshot: Snapshot;
  readonly nodeName: string;
  readonly client: ResolvedLocality;
  readonly options: PlanOptions;
  readonly warn: (warning: Warning) => void;
}

export type ServiceOutcome =
  { readonly planned: PlannedService; readonly skipped?: undefined } | { readonly planned?: undefined; readonly skipped: SkippedService };

/** Why a Service has no VIP to intercept, or undefined when it has one. */
function noVipReason(service: Service): string | undefined {
  if (service.headless) {
    return 'headless (clusterIP None): there is no VIP to intercept; clients reach the endpoints directly through DNS';
  }
  if (service.type === 'ExternalName') return 'type ExternalName: a DNS alias with no VIP to intercept';
  if (service.clusterIPs.length === 0) return 'no clusterIP allocated yet: there is no VIP to intercept';
  return undefined;
}

function byPortThenProtocol(a: ServicePort, b: ServicePort): number {
  return a.port - b.port || (a.protocol < b.protocol ? -1 : a.protocol > b.protocol ? 1 : 0);
}

/** Plans one Service: its mode, and for every (VIP, port) the tiers of endpoints. */
export function planService(service: Service, context: ServiceContext): ServiceOutcome {
  const skip = (reason: string): ServiceOutcome => ({ skipped: { service: service.key, reason } });
  const noVip = noVipReason(service);
  if (noVip) return skip(noVip);
  if (service.ports.length === 0) return skip('no ports: there is nothing to intercept');

  const ports = [...service.ports].sort(byPortThenProtocol).filter((port) => {
    if (port.protocol !== 'SCTP') return true;
    context.warn({
      code: 'sctp-ignored',
      kind: 'Service',
      name: service.key,
      message: `port ${JSON.stringify(port.name)} (${port.port}/SCTP) ignored: nearby intercepts TCP and UDP only`,
    });
    return false;
  });
  if (ports.length === 0) return skip('only SCTP ports, which nearby does not intercept');

  const namespace: Namespace | undefined = context.snapshot.namespaces.get(service.namespace);
  const choice = chooseRule(context.snapshot, service, context.options);
  choiceWarnings(service, choice).forEach(context.warn);
  const rule = choice.rule;
  if (rule) l7Warnings(rule, service).forEach(context.warn);
  const owner = rule ? `DestinationRule ${rule.key} (${choice.from})` : '';
  const fromRule = rule && localityPolicy(rule, { snapshot: context.snapshot, client: context.client, owner }, context.nodeName);
  const policy = choosePolicy(service, namespace, context.options, context.warn, fromRule);
  const slices = context.snapshot.endpointSlices.get(service.key) ?? [];

  const outlier = outlierFor(rule, service, context.warn);
  const spillPercent = spilloverPercent(
    policy,
    service,
    rule !== undefined,
    context.options.spillover ?? 'destination-rules',
    context.warn,
  );
  const entries: PlannedEntry[] = [];
  for (const vip of service.clusterIPs) {
    for (const port of ports) {
      const search = findCandidates(service.key, slices, vip.family, port);
      search.warnings.forEach(context.warn);
      // STRICT narrows to this node before the terminating fallback: a node whose only local
      // endpoint is terminating keeps using it even when other nodes have ready ones.
      const pool = policy.mode === 'STRICT' ? search.candidates.filter((c) => c.endpoint.nodeName === context.nodeName) : search.candidates;
      const tiers = placeInTiers(policy, selectEligible(pool), context);
      const spillover = spillPercent === undefined ? undefined : spilloverCounts(policy, pool, tiers, context, spillPercent);
      const balance = rule ? balanceFor(rule, service, port, context.warn) : {};
      const protocol = port.protocol === 'UDP' ? 'UDP' : 'TCP';
      entries.push({
        vip: vip.address,
        family: vip.family,
        port: port.port,
        protocol,
        portName: port.name,
        tiers,
        ...balance,
        // TCP only: sock_ops sees no UDP handshake, so a UDP backend never fails a connect.
        ...(outlier && protocol === 'TCP' ? { outlier } : {}),
        ...(spillover ? { spillover } : {}),
      });
    }
  }
  const reason = rule && !fromRule ? `${policy.reason}; ${owner} sets no localityLbSetting` : policy.reason;
  const planned: PlannedService = {
    service: service.key,
    mode: policy.mode,
    reason: spillPercent === undefined ? reason : `${reason}; spills over gradually (overprovisioning factor ${spillPercent / 100})`,
    scopes: [...policy.scopes],
    entries,
    ...(policy.weights ? { weights: [...policy.weights] } : {}),
    ...(rule ? { destinationRule: rule.key } : {}),
  };
  return { planned };
}
