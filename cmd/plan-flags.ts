/*
 * The checks of the planner's DestinationRule settings as flags, shared by nearby-agent and
 * nearbyctl plan/explain so both refuse the same values.
 */

/** A DNS domain of lowercase labels, as kubelet's --cluster-domain takes it. */
const CLUSTER_DOMAIN = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$/;
/** A namespace name (DNS label). */
const NAMESPACE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

export function isClusterDomain(value: string): boolean {
  return value.length <= 253 && CLUSTER_DOMAIN.test(value);
}

export function isNamespaceName(value: string): boolean {
  return NAMESPACE.test(value);
}
