import { CoreV1Api, CustomObjectsApi, DiscoveryV1Api, type KubeConfig } from '@kubernetes/client-node';
import { WATCHED_KINDS } from '../model/index.js';
import type { RequiredKind, WatchedKind, WatchedKindInfo } from '../model/index.js';

type ListResult = Promise<{ metadata?: { resourceVersion?: string }; items: readonly unknown[] }>;

/** How to list one kind across all namespaces, and the path its watch uses. */
/** Secrets are watched only for remote clusters' credentials (remote-secrets.ts); the model never sees them. */
export type InformedKind = WatchedKind | 'Secret';

export interface KindSpec<K extends InformedKind = WatchedKind> {
  readonly kind: K;
  /** What list items lacking one are stamped with: the version this spec lists and watches. */
  readonly apiVersion: string;
  readonly watchPath: string;
  /** Lists and watches only objects with these labels (the list call must apply it too). */
  readonly labelSelector?: string;
  readonly list: () => ListResult;
}

interface Clients {
  readonly core: CoreV1Api;
  readonly discovery: DiscoveryV1Api;
}

/** client-node's list call for each kind; keyed by kind, so a new kind without one does not compile. */
const LIST_CALLS: Readonly<Record<RequiredKind, (clients: Clients) => ListResult>> = {
  Node: ({ core }) => core.listNode(),
  Service: ({ core }) => core.listServiceForAllNamespaces(),
  EndpointSlice: ({ discovery }) => discovery.listEndpointSliceForAllNamespaces(),
  Namespace: ({ core }) => core.listNamespace(),
};

/** The required kinds, or only `only` of them (a remote cluster is read for three). */
export function kindSpecs(kc: KubeConfig, only?: readonly RequiredKind[]): readonly KindSpec[] {
  const clients: Clients = { core: kc.makeApiClient(CoreV1Api), discovery: kc.makeApiClient(DiscoveryV1Api) };
  return WATCHED_KINDS.filter(({ kind }) => !only || only.includes(kind)).map(({ kind, path, apiVersion }) => ({
    kind,
    apiVersion,
    watchPath: path,
    list: () => LIST_CALLS[kind](clients),
  }));
}

/** A CRD-served kind at the version discovery found served (which may differ from the table's first). */
export function customKindSpec(kc: KubeConfig, info: WatchedKindInfo, version: string): KindSpec {
  const customObjects = kc.makeApiClient(CustomObjectsApi);
  const { group, plural } = info;
  return {
    kind: info.kind,
    apiVersion: `${group}/${version}`,
    watchPath: `/apis/${group}/${version}/${plural}`,
    list: () => customObjects.listCustomObjectForAllNamespaces({ group, version, plural }) as ListResult,
  };
}
