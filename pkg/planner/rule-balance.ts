/*
 * A DestinationRule's loadBalancer.simple, per Service port (portLevelSettings override the
 * rule's own loadBalancer for their port, as in Istio), and what of the rule nearby does not
 * apply at L4. Nothing here is ever an error: what cannot be applied is warned about.
 */
import type { BalanceName } from '../contract/index.js';
import type { DestinationRule, LoadBalancer, Service, ServicePort } from '../model/index.js';
import type { Warning } from './types.js';

function loadBalancerFor(rule: DestinationRule, port: ServicePort): { lb: LoadBalancer | undefined; path: string } {
  const index = rule.portLevelSettings.findIndex((p) => p.port === port.port && p.loadBalancer !== undefined);
  const level = rule.portLevelSettings[index];
  if (level?.loadBalancer) return { lb: level.loadBalancer, path: `spec.trafficPolicy.portLevelSettings[${index}].loadBalancer` };
  return { lb: rule.loadBalancer, path: 'spec.trafficPolicy.loadBalancer' };
}

/**
 * The balance for one Service port, or undefined for RANDOM (nearby's default, where Istio's is
 * LEAST_REQUEST: a rule that names no simple keeps RANDOM).
 */
export function balanceFor(
  rule: DestinationRule,
  service: Service,
  port: ServicePort,
  warn: (w: Warning) => void,
): BalanceName | undefined {
  const { lb, path } = loadBalancerFor(rule, port);
  const notApplied = (code: Warning['code'], message: string): void =>
    warn({ code, kind: 'DestinationRule', name: rule.key, message: `${path}.${message} for Service ${service.key} port ${port.port}` });
  if (path !== 'spec.trafficPolicy.loadBalancer' && lb?.localityLbSetting) {
    notApplied('dr-lb-not-applied', "localityLbSetting not applied: locality is per Service, from the rule's own loadBalancer");
  }
  const hash = lb?.consistentHash;
  switch (hash) {
    case undefined:
      break;
    case 'useSourceIp':
    case 'other':
      notApplied('dr-lb-not-applied', 'consistentHash not applied yet: endpoints are picked by simple (RANDOM unless set)');
      break;
    default:
      notApplied('dr-l7-not-applied', `consistentHash.${hash} not applied: an HTTP hash key is L7`);
  }
  switch (lb?.simple) {
    case 'ROUND_ROBIN':
      return 'ROUND_ROBIN';
    case 'LEAST_REQUEST':
    case 'LEAST_CONN':
      return 'LEAST_REQUEST';
    case 'PASSTHROUGH':
      notApplied('dr-lb-not-applied', 'simple PASSTHROUGH not applied yet: endpoints are picked at RANDOM');
      return undefined;
    default:
      return undefined;
  }
}

/** One warning naming every field of an applied rule that acts above L4 (subsets, HTTP pools, TLS, ...). */
export function l7Warnings(rule: DestinationRule, service: Service): Warning[] {
  if (rule.notApplied.length === 0) return [];
  const message = `applied to Service ${service.key} at L4 only; not applied: ${rule.notApplied.join(', ')}`;
  return [{ code: 'dr-l7-not-applied', kind: 'DestinationRule', name: rule.key, message }];
}
