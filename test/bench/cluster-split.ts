/*
 * The benchmark's synthetic cluster split across N clusters, as a multi-cluster agent sees it
 * (docs/multi-cluster.md): the totals stay those of one cluster, the nodes are split into N
 * contiguous ranges (each range spans every region, zone and subzone), and every cluster holds
 * the same Services (sameness: same namespace/name) with one EndpointSlice per Service holding the
 * endpoints that run on its own nodes. Cluster 0 is the local one, with node 0 (the benchmark's
 * own node); the others are remote.
 */
import {
  type ClusterShape,
  nodeObject,
  serviceObject,
  sliceObject,
  syntheticCluster,
  destinationRuleObject,
  isMaglevRule,
} from './synthetic-cluster.js';

export const remoteClusterName = (c: number): string => `remote-${c}`;

export interface ClusterPart {
  /** undefined for the local cluster. */
  readonly cluster: string | undefined;
  /** Made on each call, so only one cluster's raw objects need exist at a time. */
  readonly objects: () => unknown[];
}

export interface SplitCluster {
  readonly parts: ClusterPart[];
  /** Which cluster runs node n. */
  readonly clusterOfNode: (n: number) => number;
  /** Where endpoint i of Service s is: its cluster, and its index in that cluster's slice. */
  readonly placement: (s: number, i: number) => { cluster: number; index: number };
}

/**
 * The cluster of `shape` split over `clusters` clusters. DestinationRules (read from the local
 * cluster only) go to the local one. Every cluster holds every Service, as a remote cluster
 * serving the same Service does; a cluster with no endpoint of a Service has no slice for it.
 */
export function splitCluster(shape: ClusterShape, clusters: number, seed = 1, destinationRules = 0, maglev = false): SplitCluster {
  if (!Number.isInteger(clusters) || clusters < 1 || clusters > shape.nodes) throw new Error(`--clusters must be 1..${shape.nodes}`);
  const { endpoints } = syntheticCluster(shape, seed);
  const clusterOfNode = (n: number): number => Math.floor((n * clusters) / shape.nodes);
  const every = destinationRules > 0 ? Math.max(1, Math.floor(shape.services / destinationRules)) : 0;
  const objectsOf = (c: number): unknown[] => {
    const objects: unknown[] = [];
    for (let n = 0; n < shape.nodes; n++) if (clusterOfNode(n) === c) objects.push(nodeObject(n, shape));
    for (let s = 0; s < shape.services; s++) objects.push(serviceObject(s));
    for (let s = 0; s < shape.services; s++) {
      const own = endpoints[s]!.filter((e) => clusterOfNode(e.node) === c);
      if (own.length > 0) objects.push(sliceObject(s, own));
    }
    if (c === 0) for (let i = 0; i < destinationRules; i++) objects.push(destinationRuleObject(i * every, maglev && isMaglevRule(i)));
    return objects;
  };
  const parts = Array.from({ length: clusters }, (_, c): ClusterPart => ({
    cluster: c === 0 ? undefined : remoteClusterName(c),
    objects: () => objectsOf(c),
  }));
  const placement = compactPlacement(shape, endpoints, clusterOfNode, clusters);
  return { parts, clusterOfNode, placement };
}

/**
 * Where each endpoint went, in two typed arrays, so the generator's endpoint objects are not kept
 * alive: the benchmark measures RSS. A function of its own because closures made in one scope share
 * one context in V8: made beside objectsOf(), placement() would keep all the endpoints alive.
 */
function compactPlacement(
  shape: ClusterShape,
  endpoints: ReadonlyArray<ReadonlyArray<{ node: number }>>,
  clusterOfNode: (n: number) => number,
  clusters: number,
): SplitCluster['placement'] {
  const perService = Math.floor(shape.endpoints / shape.services);
  const clusterOf = new Uint16Array(shape.services * perService);
  const indexOf = new Uint16Array(shape.services * perService);
  endpoints.forEach((list, s) => {
    const seen = new Array<number>(clusters).fill(0);
    list.forEach((e, i) => {
      const c = clusterOfNode(e.node);
      clusterOf[s * perService + i] = c;
      indexOf[s * perService + i] = seen[c]!++;
    });
  });
  return (s, i) => ({ cluster: clusterOf[s * perService + i]!, index: indexOf[s * perService + i]! });
}

export interface ClusterCounts {
  readonly cluster: string;
  readonly nodes: number;
  readonly services: number;
  readonly slices: number;
  readonly endpoints: number;
}

/** What one cluster's objects hold, counted from the objects themselves. */
export function countObjects(cluster: string | undefined, objects: readonly unknown[]): ClusterCounts {
  const totals = { cluster: cluster ?? 'local', nodes: 0, services: 0, slices: 0, endpoints: 0 };
  for (const object of objects) {
    const o = object as { kind: string; endpoints?: unknown[] };
    if (o.kind === 'Node') totals.nodes++;
    else if (o.kind === 'Service') totals.services++;
    else if (o.kind === 'EndpointSlice') {
      totals.slices++;
      totals.endpoints += o.endpoints?.length ?? 0;
    }
  }
  return totals;
}

/**
 * Why the split does not hold the totals the benchmark states, or undefined when it does: every
 * node in exactly one cluster, every endpoint in exactly one cluster's slice, and every cluster
 * holding every Service.
 */
export function splitTotalsProblem(shape: ClusterShape, counts: readonly ClusterCounts[]): string | undefined {
  const sum = (field: 'nodes' | 'endpoints'): number => counts.reduce((n, c) => n + c[field], 0);
  if (sum('nodes') !== shape.nodes) return `nodes: ${sum('nodes')} across clusters, ${shape.nodes} stated`;
  if (sum('endpoints') !== shape.endpoints) return `endpoints: ${sum('endpoints')} across clusters, ${shape.endpoints} stated`;
  for (const c of counts) {
    if (c.services !== shape.services) return `cluster ${c.cluster} holds ${c.services} Services, ${shape.services} stated`;
    if (c.nodes === 0) return `cluster ${c.cluster} has no nodes`;
  }
  return undefined;
}
