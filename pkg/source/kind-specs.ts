import { CoreV1Api, DiscoveryV1Api, type KubeConfig } from '@kubernetes/client-node';
import { WATCHED_KINDS } from '../model/index.js';
import type { RequiredKind, WatchedKind } from '../model/index.js';

type ListResult = Promise<{ metadata?: { resourceVersion?: string }; items: readonly unknown[] }>;

/** How to list one kind across all namespaces, and the path its watch uses. */
export interface KindSpec {
  readonly kind: WatchedKind;
  readonly watchPath: string;
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

export function kindSpecs(kc: KubeConfig): readonly KindSpec[] {
  const clients: Clients = { core: kc.makeApiClient(CoreV1Api), discovery: kc.makeApiClient(DiscoveryV1Api) };
  return WATCHED_KINDS.map(({ kind, path }) => ({ kind, watchPath: path, list: () => LIST_CALLS[kind](clients) }));
}
