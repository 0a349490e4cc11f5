/**
 * Istio's DestinationRule, reduced to what nearby reads: the host it is for, who may see it, and
 * the load balancer settings that act at L4. Everything else it may carry is remembered only by
 * field path, so the planner can say what it does not apply instead of dropping it silently.
 */
import type { OutlierSettings } from '../contract/index.js';

/** loadBalancer.simple as written; LEAST_CONN is Istio's older name for LEAST_REQUEST. */
export const SIMPLE_LB_NAMES = ['UNSPECIFIED', 'RANDOM', 'ROUND_ROBIN', 'LEAST_REQUEST', 'LEAST_CONN', 'PASSTHROUGH'] as const;
export type SimpleLbName = (typeof SIMPLE_LB_NAMES)[number];

/** Which consistentHash key a rule asks for; only the kind is kept, the L4 question is which. */
export type ConsistentHashKind = 'useSourceIp' | 'httpHeaderName' | 'httpCookie' | 'httpQueryParameterName' | 'other';

/**
 * consistentHash's table: `maglev` (tableSize) or `ringHash` (minimumRingSize, or the older
 * consistentHash.minimumRingSize). size is as written, before nearby caps and rounds it.
 */
export interface HashTable {
  readonly kind: 'maglev' | 'ringHash';
  readonly size?: number;
}

export interface LocalityDistribute {
  /** "region/zone/subzone", each part possibly `*`. */
  readonly from: string;
  /** Each target locality and its weight (1-100), in the order written. */
  readonly to: ReadonlyArray<{ readonly locality: string; readonly weight: number }>;
}

export interface LocalityFailover {
  /** A region. */
  readonly from: string;
  /** A region. */
  readonly to: string;
}

export interface LocalityLbSetting {
  /** Unset means enabled, as in Istio. */
  readonly enabled?: boolean;
  readonly distribute: readonly LocalityDistribute[];
  readonly failover: readonly LocalityFailover[];
  /** Label names, or `label=value`. */
  readonly failoverPriority: readonly string[];
}

export interface LoadBalancer {
  readonly simple?: SimpleLbName;
  readonly consistentHash?: ConsistentHashKind;
  /** Set only with consistentHash. */
  readonly hashTable?: HashTable;
  readonly localityLbSetting?: LocalityLbSetting;
}

export interface PortLoadBalancer {
  readonly port: number;
  readonly loadBalancer?: LoadBalancer;
}

export interface DestinationRule {
  /** "namespace/name". */
  readonly key: string;
  readonly namespace: string;
  readonly name: string;
  /** RFC 3339 as the API writes it; "" when absent (hand-written files), which sorts first. */
  readonly creationTimestamp: string;
  readonly host: string;
  /** As written; empty means visible everywhere. */
  readonly exportTo: readonly string[];
  readonly hasWorkloadSelector: boolean;
  readonly loadBalancer?: LoadBalancer;
  /** Ordered as written; a port appears once. */
  readonly portLevelSettings: readonly PortLoadBalancer[];
  /** trafficPolicy.outlierDetection as nearby applies it (passive ejection, docs/outlier-detection.md). */
  readonly outlierDetection?: OutlierSettings;
  /** Field paths present in the rule that act above L4 or that nearby does not apply. */
  readonly notApplied: readonly string[];
}
