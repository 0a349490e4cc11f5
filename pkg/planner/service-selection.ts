/*
 * Which Services nearby takes over on a node, beside kube-proxy (docs/concepts.md, "Coexisting
 * with kube-proxy"): the service.kubernetes.io/service-proxy-name label first, then --services.
 */
import { SERVICE_PROXY_NAME_LABEL, type DestinationRule, type LoadBalancer, type Service } from '../model/index.js';
import type { PlanOptions, Warning } from './types.js';

/** What the label says: nearby's own Service, another proxy's, or nothing (the flag decides). */
export type ProxyClaim =
  | { readonly owner: 'nearby'; readonly note: string }
  | { readonly owner: 'other'; readonly reason: string }
  | { readonly owner: 'unlabelled' };

/**
 * kube-proxy leaves alone every Service that carries the label, whatever its value (its informers
 * select on the label not existing), so an empty value means no default proxy either: nearby
 * leaves it alone too, and warns, since nothing may serve it.
 */
export function proxyClaim(service: Service, options: PlanOptions, warn: (warning: Warning) => void): ProxyClaim {
  const name = service.serviceProxyName;
  if (name === undefined) return { owner: 'unlabelled' };
  const label = `${SERVICE_PROXY_NAME_LABEL}=${JSON.stringify(name)}`;
  if (name === options.serviceProxyName) {
    return {
      owner: 'nearby',
      note: `labelled ${label}, nearby's own name: taken whatever --services says; kube-proxy ignores it, so nearby is its only proxy`,
    };
  }
  if (name === '') {
    const reason = `left alone: labelled ${label} (empty), which names no proxy, and kube-proxy ignores every Service carrying the label`;
    warn({ code: 'service-proxy-name-empty', kind: 'Service', name: service.key, message: reason });
    return { owner: 'other', reason };
  }
  return {
    owner: 'other',
    reason: `left alone: labelled ${label}, another proxy's (nearby's is ${JSON.stringify(options.serviceProxyName)})`,
  };
}

function balances(lb: LoadBalancer | undefined): boolean {
  return lb?.simple !== undefined || lb?.consistentHash !== undefined || lb?.localityLbSetting !== undefined;
}

/** A rule that changes how endpoints are picked: a localityLbSetting or a balancer, at any level. */
export function ruleSetsPolicy(rule: DestinationRule): boolean {
  return balances(rule.loadBalancer) || rule.portLevelSettings.some((p) => balances(p.loadBalancer));
}

/** Why an unlabelled Service without a locality policy is left alone, or undefined to take it. */
export function withoutPolicyReason(options: PlanOptions): string | undefined {
  if (options.services === 'all') return undefined;
  return (
    'left alone: --services=with-policy and it has no locality policy ' +
    '(trafficDistribution, the Istio annotation, internalTrafficPolicy Local, or a DestinationRule that balances); kube-proxy serves it'
  );
}
