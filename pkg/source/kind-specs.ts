import { CoreV1Api, DiscoveryV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { WatchedKind } from './types.js';

/** How to list one kind across all namespaces, and the path its watch uses. */
export interface KindSpec {
  readonly kind: WatchedKind;
  readonly watchPath: string;
  readonly list: () => Promise<{ metadata?: { resourceVersion?: string }; items: readonly unknown[] }>;
}

export function kindSpecs(kc: KubeConfig): readonly KindSpec[] {
  const core = kc.makeApiClient(CoreV1Api);
  const discovery = kc.makeApiClient(DiscoveryV1Api);
  return [
    { kind: 'Node', watchPath: '/api/v1/nodes', list: () => core.listNode() },
    { kind: 'Service', watchPath: '/api/v1/services', list: () => core.listServiceForAllNamespaces() },
    {
      kind: 'EndpointSlice',
      watchPath: '/apis/discovery.k8s.io/v1/endpointslices',
      list: () => discovery.listEndpointSliceForAllNamespaces(),
    },
    { kind: 'Namespace', watchPath: '/api/v1/namespaces', list: () => core.listNamespace() },
  ];
}
