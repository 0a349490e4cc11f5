/*
 * Remote clusters in the model (docs/multi-cluster.md). Objects read from a remote cluster reach
 * the model in a ClusterObjects list (or, one at a time, as a change) that names the cluster;
 * converting one tags the model object with its cluster and qualifies the names that could
 * collide with the local cluster's.
 *
 * Sameness is Istio's: a Service's namespace/name is one Service in every cluster, so remote
 * EndpointSlices join the local Service's endpoints. Only the local cluster's Service gives a
 * VIP; Namespaces and DestinationRules are read from the local cluster only.
 *
 * So a remote Service contributes nothing but its existence: the model keeps, per key, only the
 * names of the remote clusters that have it (a RemoteCopies note), not a copy per cluster. At
 * 10,000 Services in three clusters the copies and a Map per key were ~8 MiB of heap.
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

const BRAND = Symbol('nearby.clusterObjects');

/**
 * A remote cluster's raw objects, as one list that names the cluster. The cluster is noted once
 * per list rather than in an envelope per object: at 3 clusters of 10,000 Services the envelopes,
 * and the WeakMap that kept one per object, were 2.3 MiB per remote cluster.
 */
export interface ClusterObjects {
  readonly [BRAND]: true;
  readonly cluster: string;
  readonly objects: readonly unknown[];
}

/** Names the cluster `objects` were read from; buildSnapshot() and SnapshotStore.rebuild() take it among local objects. */
export function inCluster(cluster: string, objects: readonly unknown[]): ClusterObjects {
  return Object.freeze({ [BRAND]: true as const, cluster, objects });
}

export function isClusterObjects(value: unknown): value is ClusterObjects {
  return typeof value === 'object' && value !== null && (value as Partial<ClusterObjects>)[BRAND] === true;
}

/**
 * Qualified node names, one string per remote node rather than one per endpoint naming it, by
 * cluster and name: looked up without building the name, which every remote endpoint would.
 * Bounded: emptied when it outgrows any plausible count of remote nodes (Nodes removed stay until then).
 */
const qualifiedNodes = new Map<string, Map<string, string>>();
let qualifiedCount = 0;
const QUALIFIED_NODES_MAX = 100_000;

function qualifiedNode(cluster: string, name: string): string {
  let names = qualifiedNodes.get(cluster);
  const known = names?.get(name);
  if (known !== undefined) return known;
  if (qualifiedCount >= QUALIFIED_NODES_MAX) {
    qualifiedNodes.clear();
    qualifiedCount = 0;
    names = undefined;
  }
  if (!names) qualifiedNodes.set(cluster, (names = new Map<string, string>()));
  const key = clusterKey(cluster, name);
  names.set(name, key);
  qualifiedCount++;
  return key;
}

/** Service.clusterIPs of a Service that exists only remotely: one frozen empty list rather than one per Service. */
const NO_CLUSTER_IPS: Service['clusterIPs'] = Object.freeze([]);
const NO_ANNOTATIONS: Service['annotations'] = Object.freeze({});
const NO_PORTS: Service['ports'] = Object.freeze([]);

/**
 * The Service the model holds for a remote cluster's: its name and cluster, and nothing the
 * planner could use, since only a local Service gives a VIP (see noVipReason in the planner).
 */
export function remoteService(key: string, cluster: string): Service {
  const slash = key.indexOf('/');
  return Object.freeze({
    key,
    namespace: key.slice(0, slash),
    name: key.slice(slash + 1),
    type: 'ClusterIP',
    annotations: NO_ANNOTATIONS,
    headless: false,
    clusterIPs: NO_CLUSTER_IPS,
    ports: NO_PORTS,
    cluster,
  });
}

/**
 * The remote clusters that have a Service: one name, or several sorted by name in a list shared
 * by every Service in the same clusters (most Services of a mesh are in the same few).
 */
export type RemoteCopies = string | readonly string[];

const copyLists = new Map<string, readonly string[]>();
/** Far above the distinct sets of clusters an agent sees; emptied past it so it cannot grow forever. */
const COPY_LISTS_MAX = 10_000;

function sharedCopies(clusters: readonly string[]): RemoteCopies | undefined {
  if (clusters.length <= 1) return clusters[0];
  const key = clusters.join('/');
  const known = copyLists.get(key);
  if (known) return known;
  if (copyLists.size >= COPY_LISTS_MAX) {
    copyLists.clear();
    added.clear();
  }
  const list = Object.freeze(clusters.slice());
  copyLists.set(key, list);
  return list;
}

/**
 * withCopy()'s answers, by the copies it was given and the cluster added: a rebuild asks the same
 * few questions for every Service (10,000 at a time), each a list sorted and joined to find its
 * shared copy. Emptied with copyLists, whose lists it holds.
 */
const added = new Map<RemoteCopies, Map<string, RemoteCopies>>();

/** `copies` with `cluster` added; the very same value when it was there already. */
export function withCopy(copies: RemoteCopies | undefined, cluster: string): RemoteCopies {
  if (copies === undefined || copies === cluster) return cluster;
  let answers = added.get(copies);
  const known = answers?.get(cluster);
  if (known !== undefined) return known;
  const list = typeof copies === 'string' ? [copies] : copies;
  const answer = list.includes(cluster) ? copies : sharedCopies([...list, cluster].sort())!;
  // A list not shared (copyLists was emptied since it was made) is not kept as a key.
  if (typeof copies === 'string' || copyLists.get(copies.join('/')) === copies) {
    if (!answers) added.set(copies, (answers = new Map<string, RemoteCopies>()));
    answers.set(cluster, answer);
  }
  return answer;
}

/** `copies` without `cluster`; undefined when none is left. */
export function withoutCopy(copies: RemoteCopies | undefined, cluster: string): RemoteCopies | undefined {
  if (copies === undefined || copies === cluster) return undefined;
  if (typeof copies === 'string') return copies;
  return copies.includes(cluster) ? sharedCopies(copies.filter((c) => c !== cluster)) : copies;
}

/** True for the Service a remote cluster's converts to: the store keeps only a note of it. */
export function isRemoteService(object: ModelObject): boolean {
  return object.kind === 'Service' && object.service.cluster !== undefined;
}

const firstCopy = (copies: RemoteCopies): string => (typeof copies === 'string' ? copies : copies[0]!);

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

function tagEndpoint(endpoint: Endpoint, cluster: string): Endpoint {
  const { addresses, conditions } = endpoint;
  // The usual endpoint (a node, no zone or reference) as one literal: a literal has room for its
  // own fields only, and each field added after it costs every endpoint a property array.
  if (endpoint.zone === undefined && endpoint.targetRef === undefined) {
    if (endpoint.nodeName === undefined) return { addresses, conditions, cluster };
    return { addresses, conditions, nodeName: qualifiedNode(cluster, endpoint.nodeName), cluster };
  }
  const tagged: Mutable<Endpoint> = { addresses, conditions };
  if (endpoint.nodeName !== undefined) tagged.nodeName = qualifiedNode(cluster, endpoint.nodeName);
  if (endpoint.zone !== undefined) tagged.zone = endpoint.zone;
  if (endpoint.targetRef !== undefined) tagged.targetRef = endpoint.targetRef;
  tagged.cluster = cluster;
  return tagged;
}

/**
 * A remote cluster's object as the model holds it, or undefined for kinds read from the local
 * cluster only. A remote Service becomes remoteService(): no ClusterIPs (its VIPs belong to the
 * remote cluster's Service CIDR, which may overlap the local one) and nothing else. Copies are literals naming every field, not
 * `{ ...object, more }` (V8 gives each object made that way a hidden class of its own, see
 * read-fields.ts) nor a copy extended afterwards (each added field costs a property array).
 */
export function tagCluster(object: ModelObject, cluster: string): ModelObject | undefined {
  switch (object.kind) {
    case 'Node':
      return { kind: 'Node', node: { name: qualifiedNode(cluster, object.node.name), labels: object.node.labels, cluster } };
    case 'EndpointSlice': {
      const { namespace, name, serviceKey, addressType, ports, endpoints } = object.endpointSlice;
      // A literal, as in tagEndpoint: copied and then extended, each slice had a property array.
      const slice: EndpointSlice = {
        namespace,
        name,
        serviceKey,
        addressType,
        ports,
        endpoints: endpoints.map((e) => tagEndpoint(e, cluster)),
        cluster,
      };
      return { kind: 'EndpointSlice', endpointSlice: slice };
    }
    case 'Service':
      return { kind: 'Service', service: remoteService(object.service.key, cluster) };
    case 'Namespace':
    case 'DestinationRule':
      return undefined;
  }
}

/**
 * The Service the snapshot holds for one key: the local one, else (a Service that exists only
 * remotely) the first cluster's by name, so the choice does not depend on arrival order.
 * `current` is kept when it already is that one, so an unchanged Service keeps its identity.
 */
export function sameService(
  key: string,
  local: Service | undefined,
  copies: RemoteCopies | undefined,
  current?: Service,
): Service | undefined {
  if (local) return local;
  if (copies === undefined) return undefined;
  const first = firstCopy(copies);
  return current?.cluster === first ? current : remoteService(key, first);
}
