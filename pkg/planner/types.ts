/**
 * The planner's output: what the datapath should hold for one node. Every value is plain JSON
 * (no Maps, no undefined), ordered deterministically, so a plan can be printed, stored and
 * diffed as text.
 */
import type { BalanceName, ModeName, OutlierSettings } from '../contract/index.js';
import { DEFAULT_LOCAL_CLUSTER } from '../model/index.js';

export { MAX_TIERS } from '../contract/index.js';

/**
 * The modes a policy can give: WEIGHTED comes from a DestinationRule's distribute. SPILLOVER is
 * not one: it is FAILOVER whose entries carry spillover counts (translate writes it).
 */
export type Mode = Exclude<ModeName, 'SPILLOVER'>;
export type { BalanceName };

/** Locality scopes, widest first. */
export type Scope = 'network' | 'region' | 'zone' | 'subzone' | 'node';

export interface PlanOptions {
  /**
   * What PreferClose means. 'subzone' (the default) is the seed's and Kmesh's meaning: FAILOVER
   * over network, region, zone, subzone. 'zone' is the newer Istio (>=1.27) and Kubernetes
   * meaning: the same as PreferSameZone.
   */
  readonly preferCloseMeaning: 'subzone' | 'zone';
  /** Istio's root namespace: its DestinationRules apply to every namespace's Services. */
  readonly rootNamespace: string;
  /** The cluster's DNS domain, for matching DestinationRule hosts. */
  readonly clusterDomain: string;
  /** This (the local) cluster's name: the topology.istio.io/cluster of its endpoints. */
  readonly localCluster: string;
  /**
   * nearby's name in the service.kubernetes.io/service-proxy-name label: a Service labelled with
   * it is nearby's (and kube-proxy ignores it); one labelled with any other value is left alone.
   */
  readonly serviceProxyName: string;
  /** Which unlabelled Services nearby takes over (docs/concepts.md, "Coexisting with kube-proxy"). */
  readonly services: ServiceSelection;
  /** Which FAILOVER Services spill over gradually without an annotation; 'destination-rules' when absent. */
  readonly spillover?: SpilloverScope;
}

/**
 * The agent's --spillover: which FAILOVER Services without a nearby.io/spillover annotation use
 * Envoy's priority load (docs/outlier-detection.md): none, those with a DestinationRule, or all.
 */
export const SPILLOVER_SCOPES = ['off', 'destination-rules', 'all'] as const;
export type SpilloverScope = (typeof SPILLOVER_SCOPES)[number];

/**
 * SPILLOVER's counts for one entry, one per tier: n (endpoints not terminating, ready or not),
 * the ready endpoints planned, and the overprovisioning factor in percent (140 = 1.4).
 */
export interface PlannedSpillover {
  readonly overprovisionPercent: number;
  readonly endpoints: readonly number[];
  readonly ready: readonly number[];
}

/**
 * 'all': every Service with a VIP. 'with-policy': only those with a locality policy (and those
 * labelled with nearby's proxy name); the rest are left to kube-proxy.
 */
export type ServiceSelection = 'all' | 'with-policy';
export const SERVICE_SELECTIONS: readonly ServiceSelection[] = ['all', 'with-policy'];

export const DEFAULT_PLAN_OPTIONS: PlanOptions = Object.freeze({
  preferCloseMeaning: 'subzone',
  rootNamespace: 'istio-system',
  clusterDomain: 'cluster.local',
  localCluster: DEFAULT_LOCAL_CLUSTER,
  serviceProxyName: 'nearby',
  services: 'all',
});

export interface PlannedEndpoint {
  readonly address: string;
  /** The target port: the EndpointSlice port with the Service port's name. */
  readonly port: number;
  readonly node: string | null;
  /** "namespace/name" of the Pod behind the endpoint, when the slice says. */
  readonly pod: string | null;
  /** Serving but terminating: only ever planned when no ready endpoint exists (KEP-1669). */
  readonly terminating: boolean;
}

export interface PlannedTier {
  /** Ordered by address (numerically), then port. */
  readonly endpoints: readonly PlannedEndpoint[];
}

/**
 * One (VIP, Service port). `tiers` always has the same length for a given mode and scopes, and
 * a tier's index is its distance from this node, so a tier may be empty:
 *
 * - RANDOM: 1 tier holding every eligible endpoint.
 * - STRICT: 1 tier holding this node's endpoints; empty means the connect fails at once.
 * - FAILOVER over N scopes, network first (every built-in policy): 2N tiers. Tiers 0..N-1
 *   hold same-network endpoints (tier = N - rank); tiers N..2N-1 hold endpoints of another
 *   network, ordered the same way by the scopes after network; the last tier also holds
 *   endpoints of unknown locality. PreferClose: 8 tiers, PreferSameZone: 6.
 * - FAILOVER whose scopes do not start with network: N+1 tiers (tier = N - rank).
 * - More than MAX_TIERS tiers (PreferSameNode: 10) are cut to MAX_TIERS by merging the farthest
 *   ones into the last tier; only other-network endpoints that share at most a region with
 *   this node are affected.
 */
export interface PlannedEntry {
  readonly vip: string;
  readonly family: 4 | 6;
  readonly port: number;
  readonly protocol: 'TCP' | 'UDP';
  readonly portName: string;
  readonly tiers: readonly PlannedTier[];
  /** How an endpoint is picked inside a tier, from a DestinationRule; absent means RANDOM. */
  readonly balance?: BalanceName;
  /**
   * MAGLEV only: how many slots each non-empty tier's Maglev table has (a prime). The reconciler
   * builds the tables; the plan keeps one entry per endpoint so it stays readable.
   */
  readonly maglevTableSize?: number;
  /**
   * simple PASSTHROUGH: nothing is programmed for this (VIP, port), so connects reach the VIP
   * unmodified. The tiers are what nearby would use otherwise, for explain.
   */
  readonly passthrough?: true;
  /** Passive ejection (TCP only), from a DestinationRule or the Service's annotation; absent means none. */
  readonly outlier?: OutlierSettings;
  /** SPILLOVER services only: what each tier's health is computed from. */
  readonly spillover?: PlannedSpillover;
  /**
   * sessionAffinity ClientIP: seconds a client (network namespace) keeps its endpoint since it
   * last connected, while the endpoint is still one the mode would choose; absent for None.
   */
  readonly sessionAffinitySeconds?: number;
  /**
   * Labelled with nearby's own service-proxy-name: kube-proxy ignores it, so nearby is its only
   * proxy and it never fails open (docs/concepts.md, "Fail-open when the agent is gone").
   */
  readonly exclusive?: true;
}

export interface PlannedService {
  /** "namespace/name". */
  readonly service: string;
  readonly mode: Mode;
  /** Which rule chose the mode, from which field, and over which scopes. */
  readonly reason: string;
  /** The scopes compared, widest first: [] for RANDOM, ['node'] for STRICT. */
  readonly scopes: readonly Scope[];
  /** Ordered by the Service's clusterIPs (primary family first), then port, then protocol. */
  readonly entries: readonly PlannedEntry[];
  /** WEIGHTED only: one weight per tier, the same for every entry. */
  readonly weights?: readonly number[];
  /** "namespace/name" of the DestinationRule applied, if any. */
  readonly destinationRule?: string;
}

/** A Service with nothing to intercept, and why. */
export interface SkippedService {
  readonly service: string;
  readonly reason: string;
}

/**
 * What a warning is about, for metrics labels, readiness and anything else that must not read
 * prose. docs/metrics.md says what each means (test/unit/docs/metrics-doc.test.ts checks).
 */
export const WARNING_CODES = [
  'unknown-policy',
  'sctp-ignored',
  'port-mismatch',
  'port-unset',
  'unknown-endpoint-node',
  'unknown-client-node',
  'dr-per-client',
  'dr-lb-not-applied',
  'dr-l7-not-applied',
  'dr-maglev-table-capped',
  'dr-ring-hash-as-maglev',
  'dr-passthrough',
  'bad-outlier-annotation',
  'remote-other-network',
  'service-proxy-name-empty',
  'hint-unknown-zone',
  'bad-spillover-annotation',
] as const;
export type WarningCode = (typeof WARNING_CODES)[number];

export interface Warning {
  readonly code: WarningCode;
  readonly kind: 'Node' | 'Namespace' | 'Service' | 'EndpointSlice' | 'DestinationRule';
  /** "namespace/name" for namespaced kinds, "name" otherwise. */
  readonly name: string;
  /** For people: names the objects and values involved. Nothing parses it. */
  readonly message: string;
}

export interface Plan {
  readonly node: string;
  /** Ordered by "namespace/name". */
  readonly services: readonly PlannedService[];
  readonly skipped: readonly SkippedService[];
  /** Ordered by kind, name, then message; each distinct warning appears once. */
  readonly warnings: readonly Warning[];
}
