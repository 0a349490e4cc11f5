import type { WatchedKind } from './types.js';

/** The apiVersion each watched kind is served at; used to fill in what list responses omit. */
export const API_VERSION_OF: Readonly<Record<WatchedKind, string>> = {
  Node: 'v1',
  Service: 'v1',
  EndpointSlice: 'discovery.k8s.io/v1',
  Namespace: 'v1',
};

export const WATCHED_KINDS: readonly WatchedKind[] = ['Node', 'Service', 'EndpointSlice', 'Namespace'];

export function isWatchedKind(kind: unknown): kind is WatchedKind {
  return typeof kind === 'string' && Object.hasOwn(API_VERSION_OF, kind);
}
