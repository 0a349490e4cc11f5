import { ZONE_LABEL, type Namespace, type Service, type ServicePort, type Snapshot } from '../model/index.js';
import { findCandidates } from './candidates.js';
import { selectEligible } from './eligibility.js';
import type { ResolvedLocality } from './locality.js';
import { choosePolicy } from './policy.js';
import { balanceFor, l7Warnings } from './rule-balance.js';
import { localityPolicy } from './rule-locality.js';
import { chooseRule, choiceWarnings } from './rule-match.js';
import { outlierFor } from './rule-outlier.js';
import { proxyClaim, ruleSetsPolicy, withoutPolicyReason } from './service-selection.js';
import { chooseHints, unknownZoneWarnings } from './topology-hints.js';
import { spilloverCounts, spilloverPercent } from './rule-spillover.js';
import { placeInTiers } from './tiers.js';
import { dialable } from './remote-network.js';
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
  if (service.cluster !== undefined) {
    return (
      `exists only in remote cluster ${service.cluster} (no Service ${service.key} in this cluster): ` +
      'there is no local ClusterIP to intercept, so it is not programmed'
    );
  }
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

/** Which topology-hint rule applied, once when every (VIP, port) agrees, else per (VIP, port). */
function hintsReason(whys: ReadonlyMap<string, string>): string[] {
  const distinct = new Set(whys.values());
  if (distinct.size === 1) return [...distinct].filter((why) => why !== '');
  return [...whys].map(([where, why]) => `${where}: ${why || 'no endpoint has topology hints; every endpoint is used'}`);
}

/** Plans one Service: its mode, and for every (VIP, port) the tiers of endpoints. */
export function planService(service: Service, context: ServiceContext): ServiceOutcome {
  const skip = (reason: string): ServiceOutcome => ({ skipped: { service: service.key, reason } });
  const noVip = noVipReason(service);
  if (noVip) return skip(noVip);
  if (service.ports.length === 0) return skip('no ports: there is nothing to intercept');
  const claim = proxyClaim(service, context.options, context.warn);
  if (claim.owner === 'other') return skip(claim.reason);

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
  const ruleContext = { snapshot: context.snapshot, client: context.client, owner, localCluster: context.options.localCluster };
  const fromRule = rule && localityPolicy(rule, ruleContext, context.nodeName);
  const policy = choosePolicy(service, namespace, context.options, context.warn, fromRule);
  if (claim.owner === 'unlabelled' && policy.fallback && !(rule && ruleSetsPolicy(rule))) {
    const leftAlone = withoutPolicyReason(context.options);
    if (leftAlone) return skip(leftAlone);
  }
  const slices = context.snapshot.endpointSlices.get(service.key) ?? [];
  // Hints are kube-proxy's fallback too: any rule or DestinationRule comes first.
  const useHints = policy.fallback === true && !rule;
  const zone = context.snapshot.nodes.get(context.nodeName)?.labels[ZONE_LABEL];
  const hintWhys = new Map<string, string>();

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
      const local =
        policy.mode === 'STRICT' ? search.candidates.filter((c) => c.endpoint.nodeName === context.nodeName) : search.candidates;
      const reachable = dialable(local, context);
      const hints = useHints
        ? chooseHints(
            reachable.map((c) => c.endpoint),
            context.nodeName,
            zone,
          )
        : undefined;
      if (hints) hintWhys.set(`IPv${vip.family} port ${port.port}/${port.protocol}`, hints.why);
      const pool = hints ? reachable.filter((c) => hints.keeps(c.endpoint)) : reachable;
      const tiers = placeInTiers(policy, selectEligible(pool), context);
      const spillover = spillPercent === undefined ? undefined : spilloverCounts(policy, pool, tiers, context, spillPercent);
      const balance = rule ? balanceFor(rule, service, port, context.warn) : {};
      const protocol = port.protocol === 'UDP' ? 'UDP' : 'TCP';
      // The usual entry, with no optional field, as one literal: the spreads below cost more.
      const plain =
        !rule && !(outlier && protocol === 'TCP') && !spillover && service.sessionAffinitySeconds === undefined && claim.owner !== 'nearby';
      if (plain) {
        entries.push({ vip: vip.address, family: vip.family, port: port.port, protocol, portName: port.name, tiers });
        continue;
      }
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
        ...(service.sessionAffinitySeconds !== undefined ? { sessionAffinitySeconds: service.sessionAffinitySeconds } : {}),
        ...(claim.owner === 'nearby' ? { exclusive: true as const } : {}),
      });
    }
  }
  const hinted = [...hintWhys.values()].some((why) => why !== '');
  if (hinted) unknownZoneWarnings(context.snapshot, service.key).forEach(context.warn);
  const reason = [
    hinted
      ? 'no locality policy: RANDOM over the endpoints the topology hints allow'
      : rule && !fromRule
        ? `${policy.reason}; ${owner} sets no localityLbSetting`
        : policy.reason,
    ...hintsReason(hintWhys),
    ...(claim.owner === 'nearby' ? [claim.note] : []),
  ].join('; ');
  const planned: PlannedService = {
    service: service.key,
    mode: policy.mode,
    reason: spillPercent === undefined ? reason : `${reason}; spills over gradually (overprovisioning factor ${spillPercent / 100})`,
    scopes: [...policy.scopes],
    entries,
  };
  if (!policy.weights && !rule) return { planned };
  return {
    planned: { ...planned, ...(policy.weights ? { weights: [...policy.weights] } : {}), ...(rule ? { destinationRule: rule.key } : {}) },
  };
}
