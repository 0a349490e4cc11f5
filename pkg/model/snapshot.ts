import { convertObject, type Conversion, type ModelObject } from './from-k8s.js';
import { isRecord } from './read.js';
import { clusterKey, isClusterObjects, type RemoteCopies, sameService, withCopy } from './clusters.js';
import type { DestinationRule } from './destination-rule-types.js';
import { SliceIndex } from './slice-index.js';
import { compareSlices } from './slice-order.js';
import type { EndpointSlice, Namespace, Node, Rejection, Service, Snapshot } from './types.js';

export interface SnapshotBuild {
  readonly snapshot: Snapshot;
  readonly rejected: readonly Rejection[];
  /** The remote clusters that have each Service, by key: what snapshot.services chose among. */
  readonly remoteServices: ReadonlyMap<string, RemoteCopies>;
  /** The snapshot's EndpointSlices by cluster, namespace and name; the caller may keep it. */
  readonly slices: SliceIndex;
}

const qualifiedName = (slice: EndpointSlice): string => clusterKey(slice.cluster, `${slice.namespace}/${slice.name}`);

const slashInName = (slice: EndpointSlice): boolean =>
  slice.namespace.includes('/') || slice.name.includes('/') || (slice.cluster?.includes('/') ?? false);

/** Adds `text`; false when it was there already. */
function claimText(seen: Set<string>, text: string): boolean {
  if (seen.has(text)) return false;
  seen.add(text);
  return true;
}

function identity(object: ModelObject): { kind: string; name: string } {
  switch (object.kind) {
    case 'Node':
      return { kind: object.kind, name: object.node.name };
    case 'Namespace':
      return { kind: object.kind, name: object.namespace.name };
    case 'Service':
      return { kind: object.kind, name: clusterKey(object.service.cluster, object.service.key) };
    case 'EndpointSlice':
      return { kind: object.kind, name: qualifiedName(object.endpointSlice) };
    case 'DestinationRule':
      return { kind: object.kind, name: object.destinationRule.key };
  }
}

/**
 * Indexes already converted objects. An object that repeats the kind and name of an earlier one
 * is rejected rather than silently replacing it: in a manifest directory that is a mistake.
 * `indexes[i]` is the input position reported for `objects[i]`, when known. Names are built
 * only for a rejection: keys and slice order come from the fields objects already hold.
 */
export function assembleSnapshot(objects: readonly ModelObject[], indexes?: readonly number[]): SnapshotBuild {
  const nodes = new Map<string, Node>();
  const services = new Map<string, Service>();
  const namespaces = new Map<string, Namespace>();
  const slices = new SliceIndex();
  const allSlices: EndpointSlice[] = [];
  const destinationRules = new Map<string, DestinationRule>();
  const remoteServices = new Map<string, RemoteCopies>();
  const rejected: Rejection[] = [];
  // Kubernetes names hold no "/", so distinct (cluster, namespace, name) give distinct qualified
  // names; a manifest directory can break that, and then the qualified name decides, as it must.
  const byText = objects.some((o) => o.kind === 'EndpointSlice' && slashInName(o.endpointSlice)) ? new Set<string>() : undefined;

  const duplicate = (object: ModelObject, position: number): void => {
    const { kind, name } = identity(object);
    const index = indexes?.[position] ?? position;
    rejected.push({ code: 'duplicate', kind, name, index, message: `duplicate ${kind} ${name}; the first one is kept` });
  };
  for (let position = 0; position < objects.length; position++) {
    const object = objects[position]!;
    switch (object.kind) {
      case 'Node':
        if (nodes.has(object.node.name)) duplicate(object, position);
        else nodes.set(object.node.name, object.node);
        break;
      case 'Namespace':
        if (namespaces.has(object.namespace.name)) duplicate(object, position);
        else namespaces.set(object.namespace.name, object.namespace);
        break;
      case 'Service': {
        const { cluster, key } = object.service;
        if (cluster === undefined) {
          if (services.has(key)) duplicate(object, position);
          else services.set(key, object.service);
        } else {
          const copies = remoteServices.get(key);
          const next = withCopy(copies, cluster);
          // Only the clusters are kept (a RemoteCopies note), so a repeat is noticed by its cluster.
          if (next === copies) duplicate(object, position);
          else remoteServices.set(key, next);
        }
        break;
      }
      case 'EndpointSlice': {
        const slice = object.endpointSlice;
        const seen = byText ? !claimText(byText, qualifiedName(slice)) : slices.get(slice.cluster, slice.namespace, slice.name);
        if (seen) duplicate(object, position);
        else {
          slices.set(slice);
          allSlices.push(slice);
        }
        break;
      }
      case 'DestinationRule':
        if (destinationRules.has(object.destinationRule.key)) duplicate(object, position);
        else destinationRules.set(object.destinationRule.key, object.destinationRule);
        break;
    }
  }

  // Callbacks rather than for-of here and below: run once per full pass, for-of's iterators and
  // entry pairs were MiBs of garbage in a heap profile of it (code run once is seldom optimised).
  remoteServices.forEach((copies, key) => {
    const chosen = sameService(key, services.get(key), copies);
    if (chosen) services.set(key, chosen);
  });

  const endpointSlices = new Map<string, EndpointSlice[]>();
  allSlices.sort(compareSlices).forEach((slice) => {
    const group = endpointSlices.get(slice.serviceKey);
    if (group) group.push(slice);
    else endpointSlices.set(slice.serviceKey, [slice]);
  });
  endpointSlices.forEach((group) => Object.freeze(group));

  const snapshot: Snapshot = Object.freeze({ nodes, services, endpointSlices, namespaces, destinationRules });
  return { snapshot, rejected, remoteServices, slices };
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
      // Indexed rather than for-of (an iterator result per object) or forEach (which skips holes).
      // eslint-disable-next-line @typescript-eslint/prefer-for-of -- see above
      for (let i = 0; i < raw.objects.length; i++) visit(raw.objects[i], raw.cluster);
      return;
    }
    if (isListObject(raw)) {
      // eslint-disable-next-line @typescript-eslint/prefer-for-of -- as above
      for (let i = 0; i < raw.items.length; i++) visit(raw.items[i], cluster);
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
  return { ...assembled, rejected: allRejected };
}
