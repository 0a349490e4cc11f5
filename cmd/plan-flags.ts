/*
 * The checks of the planner's settings as flags, shared by nearby-agent and
 * nearbyctl plan/explain so both refuse the same values.
 */
import { SERVICE_SELECTIONS, type ServiceSelection } from '../pkg/planner/index.js';

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

/** A non-empty label value: an empty one names no proxy (kube-proxy reads the label's presence). */
const LABEL_VALUE = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;

export function isServiceProxyName(value: string): boolean {
  return LABEL_VALUE.test(value);
}

export function isServiceSelection(value: string): value is ServiceSelection {
  return (SERVICE_SELECTIONS as readonly string[]).includes(value);
}
