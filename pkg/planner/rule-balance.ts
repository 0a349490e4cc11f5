/*
 * A DestinationRule's loadBalancer.simple and consistentHash, per Service port (portLevelSettings
 * override the rule's own loadBalancer for their port, as in Istio), and what of the rule nearby
 * does not apply at L4. Nothing here is ever an error: what cannot be applied is warned about.
 */
import type { BalanceName } from '../contract/index.js';
import type { DestinationRule, LoadBalancer, Service, ServicePort } from '../model/index.js';
import { SERVICE_PROXY_NAME_LABEL } from '../model/index.js';
import { MAGLEV_MAX_TABLE_SIZE, maglevTableSize } from './maglev-size.js';
import type { Warning } from './types.js';

/** How one Service port picks an endpoint inside its tier; {} is RANDOM, nearby's default. */
export interface BalanceChoice {
  readonly balance?: BalanceName;
  /** MAGLEV only: slots of each non-empty tier's table, a prime. */
  readonly maglevTableSize?: number;
  /** PASSTHROUGH: nearby programs nothing for the port. */
  readonly passthrough?: true;
}

function loadBalancerFor(rule: DestinationRule, port: ServicePort): { lb: LoadBalancer | undefined; path: string } {
  const index = rule.portLevelSettings.findIndex((p) => p.port === port.port && p.loadBalancer !== undefined);
  const level = rule.portLevelSettings[index];
  if (level?.loadBalancer) return { lb: level.loadBalancer, path: `spec.trafficPolicy.portLevelSettings[${index}].loadBalancer` };
  return { lb: rule.loadBalancer, path: 'spec.trafficPolicy.loadBalancer' };
}

type Say = (code: Warning['code'], message: string) => void;

/** consistentHash.useSourceIp as Maglev over the client's network namespace, whatever table the rule names. */
function maglev(lb: LoadBalancer, say: Say): BalanceChoice {
  const table = lb.hashTable;
  const { size, capped } = maglevTableSize(table?.size);
  const field = table?.kind === 'ringHash' ? 'consistentHash.ringHash.minimumRingSize' : 'consistentHash.maglev.tableSize';
  if (capped)
    say(
      'dr-maglev-table-capped',
      `${field} ${table?.size} is above nearby's cap ${MAGLEV_MAX_TABLE_SIZE}: a Maglev table of ${size} slots per tier is used`,
    );
  if (table?.kind === 'ringHash')
    say(
      'dr-ring-hash-as-maglev',
      `consistentHash.ringHash is served by a Maglev table of ${size} slots per tier: the same consistency, another algorithm`,
    );
  return { balance: 'MAGLEV', maglevTableSize: size };
}

function passthrough(service: Service, say: Say): BalanceChoice {
  const proxy = service.serviceProxyName;
  say(
    'dr-passthrough',
    proxy === undefined
      ? 'simple PASSTHROUGH: nearby leaves these connects alone, so they reach the VIP unmodified; they work only where kube-proxy (or another proxy) also serves the VIP, which nearby cannot see'
      : // Only nearby's own name gets here: a Service labelled for another proxy is left alone before any rule is read.
        `simple PASSTHROUGH: nearby leaves these connects alone, but the Service carries ${SERVICE_PROXY_NAME_LABEL}=${proxy}, nearby's own, which kube-proxy ignores: these connects have no proxy`,
  );
  return { passthrough: true };
}

/** The balance for one Service port. A rule that names no simple keeps RANDOM (Istio's default is LEAST_REQUEST). */
export function balanceFor(rule: DestinationRule, service: Service, port: ServicePort, warn: (w: Warning) => void): BalanceChoice {
  const { lb, path } = loadBalancerFor(rule, port);
  const say: Say = (code, message) =>
    warn({ code, kind: 'DestinationRule', name: rule.key, message: `${path}.${message} for Service ${service.key} port ${port.port}` });
  if (path !== 'spec.trafficPolicy.loadBalancer' && lb?.localityLbSetting) {
    say('dr-lb-not-applied', "localityLbSetting not applied: locality is per Service, from the rule's own loadBalancer");
  }
  if (!lb) return {};
  switch (lb.consistentHash) {
    case undefined:
      break;
    case 'useSourceIp':
      return maglev(lb, say);
    case 'other':
      say(
        'dr-lb-not-applied',
        'consistentHash names no hash key nearby can read at L4 (useSourceIp): endpoints are picked by simple (RANDOM unless set)',
      );
      break;
    default:
      say('dr-l7-not-applied', `consistentHash.${lb.consistentHash} not applied: an HTTP hash key is L7`);
  }
  switch (lb.simple) {
    case 'ROUND_ROBIN':
      return { balance: 'ROUND_ROBIN' };
    case 'LEAST_REQUEST':
    case 'LEAST_CONN':
      return { balance: 'LEAST_REQUEST' };
    case 'PASSTHROUGH':
      return passthrough(service, say);
    default:
      return {};
  }
}

/** One warning naming every field of an applied rule that acts above L4 (subsets, HTTP pools, TLS, ...). */
export function l7Warnings(rule: DestinationRule, service: Service): Warning[] {
  if (rule.notApplied.length === 0) return [];
  const message = `applied to Service ${service.key} at L4 only; not applied: ${rule.notApplied.join(', ')}`;
  return [{ code: 'dr-l7-not-applied', kind: 'DestinationRule', name: rule.key, message }];
}
