import { convertObject, type Conversion, type ModelObject } from './from-k8s.js';
import { isRecord } from './read.js';
import { clusterKey, isClusterObjects, type RemoteCopies, sameService, withCopy } from './clusters.js';
import type { DestinationRule } from './destination-rule-types.js';
import type { EndpointSlice, Namespace, Node, Rejection, Service, Snapshot } from './types.js';

export interface SnapshotBuild {
  readonly snapshot: Snapshot;
  readonly rejected: readonly Rejection[];
  /** The remote clusters that have each Service, by key: what snapshot.services chose among. */
  readonly remoteServices: ReadonlyMap<string, RemoteCopies>;
}

function identity(object: ModelObject): { kind: string; name: string } {
  switch (object.kind) {
    case 'Node':
      return { kind: object.kind, name: object.node.name };
    case 'Namespace':
      return { kind: object.kind, name: object.namespace.name };
    case 'Service':
      return { kind: object.kind, name: clusterKey(object.service.cluster, object.service.key) };
    case 'EndpointSlice': {
      const slice = object.endpointSlice;
      return { kind: object.kind, name: clusterKey(slice.cluster, `${slice.namespace}/${slice.name}`) };
    }
    case 'DestinationRule':
      return { kind: object.kind, name: object.destinationRule.key };
  }
}

/**
 * Indexes already converted objects. An object that repeats the kind and name of an earlier one
 * is rejected rather than silently replacing it: in a manifest directory that is a mistake.
 * `indexes[i]` is the input position reported for `objects[i]`, when known.
 */
export function assembleSnapshot(objects: readonly ModelObject[], indexes?: readonly number[]): SnapshotBuild {
  const nodes = new Map<string, Node>();
  const services = new Map<string, Service>();
  const namespaces = new Map<string, Namespace>();
  const slicesByName = new Map<string, EndpointSlice>();
  const destinationRules = new Map<string, DestinationRule>();
  const remoteServices = new Map<string, RemoteCopies>();
  const rejected: Rejection[] = [];

  objects.forEach((object, position) => {
    const { kind, name } = identity(object);
    const index = indexes?.[position] ?? position;
    const duplicate = (): void => {
      rejected.push({ code: 'duplicate', kind, name, index, message: `duplicate ${kind} ${name}; the first one is kept` });
    };
    const claim = <T>(map: Map<string, T>, key: string, value: T): void => {
      if (map.has(key)) duplicate();
      else map.set(key, value);
    };
    switch (object.kind) {
      case 'Node':
        claim(nodes, name, object.node);
        break;
      case 'Namespace':
        claim(namespaces, name, object.namespace);
        break;
      case 'Service': {
        const cluster = object.service.cluster;
        if (cluster === undefined) claim(services, name, object.service);
        else {
          const copies = remoteServices.get(object.service.key);
          const next = withCopy(copies, cluster);
          // Only the clusters are kept (a RemoteCopies note), so a repeat is noticed by its cluster.
          if (next === copies) duplicate();
          else remoteServices.set(object.service.key, next);
        }
        break;
      }
      case 'EndpointSlice':
        claim(slicesByName, name, object.endpointSlice);
        break;
      case 'DestinationRule':
        claim(destinationRules, name, object.destinationRule);
        break;
    }
  });

  for (const [key, copies] of remoteServices) {
    const chosen = sameService(key, services.get(key), copies);
    if (chosen) services.set(key, chosen);
  }

  const endpointSlices = new Map<string, EndpointSlice[]>();
  const bySliceName = [...slicesByName.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const [, slice] of bySliceName) {
    const group = endpointSlices.get(slice.serviceKey) ?? [];
    group.push(slice);
    endpointSlices.set(slice.serviceKey, group);
  }
  for (const group of endpointSlices.values()) Object.freeze(group);

  const snapshot: Snapshot = Object.freeze({ nodes, services, endpointSlices, namespaces, destinationRules });
  return { snapshot, rejected, remoteServices };
}

/** `kind: List` (and `NodeList`, `ServiceList`, ...) as `kubectl get -o yaml` writes them. */
function isListObject(raw: unknown): raw is { items: unknown[] } {
  return isRecord(raw) && typeof raw['kind'] === 'string' && raw['kind'].endsWith('List') && Array.isArray(raw['items']);
}

/**
 * Builds a snapshot from parsed Kubernetes-shaped objects. Lists are flattened, kinds nearby
 * does not read are skipped, and each object that cannot be read is reported on its own without
 * keeping the others out. A remote cluster's objects come as one ClusterObjects list (inCluster()).
 * Rejection indexes count objects after flattening lists.
 */
export function buildSnapshot(
  objects: Iterable<unknown>,
  convert: (raw: unknown, index: number, cluster?: string) => Conversion = convertObject,
): SnapshotBuild {
  const accepted: ModelObject[] = [];
  const indexes: number[] = [];
  const rejected: Rejection[] = [];
  let index = 0;
  // Converted as they are met rather than flattened into a list first: at 100,000 endpoints in
  // three clusters that list was one more array of every object during each rebuild.
  const visit = (raw: unknown, cluster: string | undefined): void => {
    if (isClusterObjects(raw)) {
      for (const object of raw.objects) visit(object, raw.cluster);
      return;
    }
    if (isListObject(raw)) {
      for (const item of raw.items) visit(item, cluster);
      return;
    }
    const conversion = convert(raw, index, cluster);
    if (conversion.status === 'accepted') {
      accepted.push(conversion.object);
      indexes.push(index);
    } else if (conversion.status === 'rejected') {
      rejected.push(conversion.rejection);
    }
    index++;
  };
  for (const raw of objects) visit(raw, undefined);

  const assembled = assembleSnapshot(accepted, indexes);
  const allRejected = [...rejected, ...assembled.rejected].sort((a, b) => a.index - b.index);
  return { snapshot: assembled.snapshot, rejected: allRejected, remoteServices: assembled.remoteServices };
}
