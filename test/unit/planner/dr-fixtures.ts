// DestinationRule objects for tests, as a file or the API would hold them.
import type { RejectionCode } from '../../../pkg/model/index.js';

export interface RuleOptions {
  readonly namespace?: string;
  readonly apiVersion?: string;
  readonly creationTimestamp?: string;
}

export function destinationRule(name: string, spec: Record<string, unknown>, options: RuleOptions = {}): Record<string, unknown> {
  return {
    apiVersion: options.apiVersion ?? 'networking.istio.io/v1',
    kind: 'DestinationRule',
    metadata: {
      name,
      namespace: options.namespace ?? 'sample',
      ...(options.creationTimestamp ? { creationTimestamp: options.creationTimestamp } : {}),
    },
    spec,
  };
}

/** A rule whose only trafficPolicy is this localityLbSetting. */
export function localityRule(
  name: string,
  host: string,
  setting: Record<string, unknown>,
  options: RuleOptions = {},
): Record<string, unknown> {
  return destinationRule(name, { host, trafficPolicy: { loadBalancer: { localityLbSetting: setting } } }, options);
}

/** One broken localityLbSetting per validation code, with the field path its message names. */
export const BROKEN_SETTINGS: ReadonlyArray<{ code: RejectionCode; path: string; setting: Record<string, unknown> }> = [
  {
    code: 'dr-distribute-and-failover',
    path: 'spec.trafficPolicy.loadBalancer.localityLbSetting',
    setting: { distribute: [{ from: 'r/*', to: { 'r/z1/*': 100 } }], failover: [{ from: 'r', to: 'q' }] },
  },
  {
    code: 'dr-weight-out-of-range',
    path: 'spec.trafficPolicy.loadBalancer.localityLbSetting.distribute[0].to["r/z2/*"]',
    setting: { distribute: [{ from: 'r/*', to: { 'r/z1/*': 100, 'r/z2/*': 0 } }] },
  },
  {
    code: 'dr-weights-not-100',
    path: 'spec.trafficPolicy.loadBalancer.localityLbSetting.distribute[0].to',
    setting: { distribute: [{ from: 'r/*', to: { 'r/z1/*': 60, 'r/z2/*': 30 } }] },
  },
  {
    code: 'dr-bad-locality',
    path: 'spec.trafficPolicy.loadBalancer.localityLbSetting.distribute[0].from',
    setting: { distribute: [{ from: 'r//s', to: { 'r/z1/*': 100 } }] },
  },
  {
    code: 'dr-failover-wildcard',
    path: 'spec.trafficPolicy.loadBalancer.localityLbSetting.failover[0].to',
    setting: { failover: [{ from: 'r', to: '*' }] },
  },
  {
    code: 'dr-failover-same-region',
    path: 'spec.trafficPolicy.loadBalancer.localityLbSetting.failover[0]',
    setting: { failover: [{ from: 'r', to: 'r' }] },
  },
  {
    code: 'dr-failover-with-topology-priority',
    path: 'spec.trafficPolicy.loadBalancer.localityLbSetting.failoverPriority',
    setting: { failover: [{ from: 'r', to: 'q' }], failoverPriority: ['topology.kubernetes.io/region'] },
  },
  {
    code: 'dr-too-many-localities',
    path: 'spec.trafficPolicy.loadBalancer.localityLbSetting.distribute[0].to',
    setting: {
      distribute: [{ from: 'r/*', to: Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`r/z${i}`, 10])) }],
    },
  },
];
