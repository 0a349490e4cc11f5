/*
 * The node labels that carry locality. The model needs them to validate DestinationRules (Istio
 * refuses `failover` together with a `failoverPriority` naming region, zone or subzone) and the
 * planner to rank endpoints; both read them from here.
 */
export const REGION_LABEL = 'topology.kubernetes.io/region';
export const ZONE_LABEL = 'topology.kubernetes.io/zone';
export const ISTIO_SUBZONE_LABEL = 'topology.istio.io/subzone';
/** Not a Kubernetes standard, but the seeds (000/002) label nodes with it. */
export const KUBERNETES_SUBZONE_LABEL = 'topology.kubernetes.io/subzone';
export const NETWORK_LABEL = 'topology.istio.io/network';
export const HOSTNAME_LABEL = 'kubernetes.io/hostname';
/**
 * The cluster an endpoint runs in, as Istio names it. Not read from Node labels: nearby gives
 * each endpoint its cluster's name (the local one from --cluster-name, a remote one from the key
 * of its remote Secret), as Istio does.
 */
export const CLUSTER_LABEL = 'topology.istio.io/cluster';
