/*
 * Remote clusters in the model (docs/multi-cluster.md). Objects read from a remote cluster reach
 * the model wrapped in a ClusterObject that names the cluster; converting one tags the model
 * object with its cluster and qualifies the names that could collide with the local cluster's.
 *
 * Sameness is Istio's: a Service's namespace/name is one Service in every cluster, so remote
 * EndpointSlices join the local Service's endpoints. Only the local cluster's Service gives a
 * VIP; Namespaces and DestinationRules are read from the local cluster only.
 */
import type { ModelObject } from './from-k8s.js';
import type { Endpoint, EndpointSlice, Service } from './types.js';

/** Istio's cluster id when none is configured; the local cluster's name unless --cluster-name says otherwise. */
export const DEFAULT_LOCAL_CLUSTER = 'Kubernetes';

/**
 * A remote object's key among the local ones: "cluster/name". Cluster names are Secret data keys,
 * which cannot hold "/", and Node names cannot either, so a qualified Node name never equals a
 * local one, and a qualified "namespace/name" (three parts) never equals a local one (two).
 */
export function clusterKey(cluster: string | undefined, name: string): string {
  return cluster === undefined ? name : `${cluster}/${name}`;
}

const BRAND = Symbol('nearby.clusterObject');

/** A raw object read from a remote cluster. */
export interface ClusterObject {
  readonly [BRAND]: true;
  readonly cluster: string;
  readonly object: unknown;
}

// One envelope per raw object, so the store's per-object conversion cache keeps working.
const envelopes = new WeakMap<object, ClusterObject>();

/** Wraps a remote cluster's raw object; the same object always gets the same envelope. */
export function inCluster(cluster: string, object: unknown): ClusterObject {
  if (typeof object !== 'object' || object === null) return Object.freeze({ [BRAND]: true as const, cluster, object });
  let envelope = envelopes.get(object);
  if (envelope?.cluster !== cluster) envelopes.set(object, (envelope = Object.freeze({ [BRAND]: true as const, cluster, object })));
  return envelope;
}

export function isClusterObject(value: unknown): value is ClusterObject {
  return typeof value === 'object' && value !== null && (value as Partial<ClusterObject>)[BRAND] === true;
}

/**
 * Qualified node names, one string per remote node rather than one per endpoint naming it.
 * Bounded: emptied when it outgrows any plausible count of remote nodes (Nodes removed stay until then).
 */
const qualifiedNodes = new Map<string, string>();
const QUALIFIED_NODES_MAX = 100_000;

function qualifiedNode(cluster: string, name: string): string {
  const key = clusterKey(cluster, name);
  const known = qualifiedNodes.get(key);
  if (known !== undefined) return known;
  if (qualifiedNodes.size >= QUALIFIED_NODES_MAX) qualifiedNodes.clear();
  qualifiedNodes.set(key, key);
  return key;
}

/** Service.clusterIPs of every remote copy: one frozen empty list rather than one per copy. */
const NO_CLUSTER_IPS: Service['clusterIPs'] = Object.freeze([]);

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

function tagEndpoint(endpoint: Endpoint, cluster: string): Endpoint {
  const tagged: Mutable<Endpoint> = { addresses: endpoint.addresses, conditions: endpoint.conditions };
  if (endpoint.nodeName !== undefined) tagged.nodeName = qualifiedNode(cluster, endpoint.nodeName);
  if (endpoint.zone !== undefined) tagged.zone = endpoint.zone;
  if (endpoint.targetRef !== undefined) tagged.targetRef = endpoint.targetRef;
  tagged.cluster = cluster;
  return tagged;
}

/**
 * A remote cluster's object as the model holds it, or undefined for kinds read from the local
 * cluster only. A remote Service keeps no ClusterIPs: its VIPs belong to the remote cluster's
 * Service CIDR, which may overlap the local one. Copies are made with Object.assign and then
 * changed, not as `{ ...object, more }`: V8 gives each object made that way a hidden class of
 * its own (see read-fields.ts).
 */
export function tagCluster(object: ModelObject, cluster: string): ModelObject | undefined {
  switch (object.kind) {
    case 'Node':
      return { kind: 'Node', node: { name: qualifiedNode(cluster, object.node.name), labels: object.node.labels, cluster } };
    case 'EndpointSlice': {
      const slice: Mutable<EndpointSlice> = Object.assign({}, object.endpointSlice);
      slice.endpoints = slice.endpoints.map((e) => tagEndpoint(e, cluster));
      slice.cluster = cluster;
      return { kind: 'EndpointSlice', endpointSlice: slice };
    }
    case 'Service': {
      const service: Mutable<Service> = Object.assign({}, object.service);
      service.clusterIPs = NO_CLUSTER_IPS;
      service.cluster = cluster;
      return { kind: 'Service', service };
    }
    case 'Namespace':
    case 'DestinationRule':
      return undefined;
  }
}

/**
 * The Service the snapshot holds for one key: the local one, else (a Service that exists only
 * remotely) the copy of the first cluster by name, so the choice does not depend on arrival order.
 */
export function sameService(local: Service | undefined, remotes: ReadonlyMap<string, Service> | undefined): Service | undefined {
  if (local) return local;
  if (!remotes || remotes.size === 0) return undefined;
  const first = [...remotes.keys()].sort()[0]!;
  return remotes.get(first);
}
