/*
 * The store's EndpointSlices by cluster, namespace and name, in nested maps keyed by the strings
 * the slices already hold, rather than one map keyed by "cluster/namespace/name": that string,
 * built for every slice and kept as the key, was ~80 bytes per slice (a concatenation and its
 * flattened copy), ~2.4 MiB at 30,000 slices in three clusters.
 */
import type { EndpointSlice } from './types.js';

type ByName = Map<string, EndpointSlice>;

export class SliceIndex {
  private readonly byCluster = new Map<string | undefined, Map<string, ByName>>();

  get(cluster: string | undefined, namespace: string, name: string): EndpointSlice | undefined {
    return this.byCluster.get(cluster)?.get(namespace)?.get(name);
  }

  set(slice: EndpointSlice): void {
    let namespaces = this.byCluster.get(slice.cluster);
    if (!namespaces) this.byCluster.set(slice.cluster, (namespaces = new Map<string, ByName>()));
    let names = namespaces.get(slice.namespace);
    if (!names) namespaces.set(slice.namespace, (names = new Map<string, EndpointSlice>()));
    names.set(slice.name, slice);
  }

  delete(slice: EndpointSlice): void {
    const namespaces = this.byCluster.get(slice.cluster);
    const names = namespaces?.get(slice.namespace);
    if (names?.get(slice.name) !== slice) return;
    names.delete(slice.name);
    if (names.size > 0) return;
    namespaces!.delete(slice.namespace);
    if (namespaces!.size === 0) this.byCluster.delete(slice.cluster);
  }

  /** Every slice, in the order first set: a callback, since a generator made two objects per slice. */
  forEach(visit: (slice: EndpointSlice) => void): void {
    for (const namespaces of this.byCluster.values()) for (const names of namespaces.values()) names.forEach(visit);
  }
}
