/**
 * The typed, read-only view of the Kubernetes objects nearby cares about. Only the fields the
 * planner reads are kept, so the rest of the agent cannot come to depend on anything else.
 *
 * Values are kept as the API states them (an unset condition stays `undefined`): deciding what
 * an unset field means is semantics, and semantics belong to the planner.
 */

import type { IpAddress, IpFamily } from '../ip/index.js';
import type { DestinationRule } from './destination-rule-types.js';

/** IpAddress is in canonical text form (IPv6 per RFC 5952), so equal addresses compare equal. */
export type { IpAddress, IpFamily };

/** SCTP is kept so the planner can say it is ignoring it, rather than the object vanishing. */
export type Protocol = 'TCP' | 'UDP' | 'SCTP';

export type Labels = Readonly<Record<string, string>>;

export interface Node {
  /** Its key in Snapshot.nodes: the Node name, as clusterKey() qualifies it for a remote cluster. */
  readonly name: string;
  readonly labels: Labels;
  /** The remote cluster it belongs to; absent for the local cluster. */
  readonly cluster?: string;
}

export interface Namespace {
  readonly name: string;
  readonly labels: Labels;
  readonly annotations: Labels;
}

export interface ServicePort {
  /** "" for the single unnamed port a Service may have. */
  readonly name: string;
  readonly port: number;
  readonly protocol: Protocol;
}

export interface Service {
  /** "namespace/name", the key every other layer uses. */
  readonly key: string;
  readonly namespace: string;
  readonly name: string;
  /** spec.type, "ClusterIP" when unset. */
  readonly type: string;
  readonly annotations: Labels;
  /**
   * The value of the service.kubernetes.io/service-proxy-name label when the label is present,
   * even empty: its presence alone makes kube-proxy leave the Service alone.
   */
  readonly serviceProxyName?: string;
  /** clusterIP "None": there is no VIP to intercept. */
  readonly headless: boolean;
  /** Every VIP, primary family first; empty when headless, ExternalName or not yet allocated. */
  readonly clusterIPs: readonly IpAddress[];
  readonly internalTrafficPolicy?: string;
  readonly trafficDistribution?: string;
  /**
   * sessionAffinity ClientIP: seconds a client keeps its endpoint since it last connected
   * (timeoutSeconds, defaulted as the API server does). Absent for None.
   */
  readonly sessionAffinitySeconds?: number;
  readonly ports: readonly ServicePort[];
  /**
   * Absent for the local cluster's Service. Set only when no local Service of this namespace/name
   * exists and the snapshot holds a remote cluster's copy instead: such a Service has no VIP here.
   */
  readonly cluster?: string;
}

export type AddressType = 'IPv4' | 'IPv6' | 'FQDN';

export interface EndpointPort {
  readonly name: string;
  /** null: the slice leaves the port unrestricted, which gives nothing to rewrite to. */
  readonly port: number | null;
  readonly protocol: Protocol;
}

export interface EndpointConditions {
  readonly ready?: boolean;
  readonly serving?: boolean;
  readonly terminating?: boolean;
}

export interface ObjectReference {
  readonly kind: string;
  readonly namespace?: string;
  readonly name: string;
}

/** Topology Aware Routing hints, as the EndpointSlice controller writes them. */
export interface EndpointHints {
  /** hints.forZones[].name */
  readonly forZones: readonly string[];
  /** hints.forNodes[].name */
  readonly forNodes: readonly string[];
}

export interface Endpoint {
  /** Canonical IPs for IPv4/IPv6 slices, as written for FQDN slices. May be empty. */
  readonly addresses: readonly string[];
  readonly conditions: EndpointConditions;
  readonly nodeName?: string;
  readonly zone?: string;
  readonly targetRef?: ObjectReference;
  /** The remote cluster it runs in (nodeName is then qualified by clusterKey()); absent for local. */
  readonly cluster?: string;
  /** Absent when the slice gives none. */
  readonly hints?: EndpointHints;
}

export interface EndpointSlice {
  readonly namespace: string;
  readonly name: string;
  /** "namespace/name" of the Service, from the kubernetes.io/service-name label. */
  readonly serviceKey: string;
  readonly addressType: AddressType;
  readonly ports: readonly EndpointPort[];
  readonly endpoints: readonly Endpoint[];
  /** The remote cluster it was read from; absent for the local cluster. */
  readonly cluster?: string;
}

export interface Snapshot {
  readonly nodes: ReadonlyMap<string, Node>;
  /** Keyed by "namespace/name". */
  readonly services: ReadonlyMap<string, Service>;
  /** Keyed by the Service's "namespace/name"; each list is ordered by slice name. */
  readonly endpointSlices: ReadonlyMap<string, readonly EndpointSlice[]>;
  readonly namespaces: ReadonlyMap<string, Namespace>;
  /** Keyed by "namespace/name"; only rules that passed validation. */
  readonly destinationRules: ReadonlyMap<string, DestinationRule>;
}

/**
 * Why an object was refused, for metrics labels and anything else that must not read prose.
 * docs/metrics.md says what each means (test/unit/docs/metrics-doc.test.ts checks).
 */
export const REJECTION_CODES = [
  'not-an-object',
  'missing-kind',
  'unsupported-api-version',
  'duplicate',
  'missing-field',
  'wrong-type',
  'bad-ip',
  'bad-port',
  'unknown-enum',
  'duplicate-port',
  // spec.sessionAffinityConfig.clientIP.timeoutSeconds outside the API server's 1..86400.
  'bad-affinity-timeout',
  // DestinationRule localityLbSetting, refused as Istio's validation refuses it.
  'dr-distribute-and-failover',
  'dr-weight-out-of-range',
  'dr-weights-not-100',
  'dr-bad-locality',
  'dr-failover-wildcard',
  'dr-failover-same-region',
  'dr-failover-with-topology-priority',
  'dr-too-many-localities',
  // DestinationRule outlierDetection, refused as Istio's validation refuses it.
  'dr-bad-outlier',
] as const;
export type RejectionCode = (typeof REJECTION_CODES)[number];

/** An input object that could not be turned into the model, and why. */
export interface Rejection {
  readonly code: RejectionCode;
  /** The object's kind as written, or "" when it has none. */
  readonly kind: string;
  /** "namespace/name", "name" for cluster-scoped kinds, or "" when it has none. */
  readonly name: string;
  /** Position in the input list, so objects without a name can still be found. */
  readonly index: number;
  /** For people: names the field and the value. Nothing parses it. */
  readonly message: string;
  /** The remote cluster the object came from (name is then qualified by clusterKey()). */
  readonly cluster?: string;
}

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
/** Names the proxy that serves a Service; kube-proxy serves only Services without it. */
export const SERVICE_PROXY_NAME_LABEL = 'service.kubernetes.io/service-proxy-name';
