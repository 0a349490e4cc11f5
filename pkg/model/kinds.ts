/*
 * The Kubernetes kinds nearby reads, and where the API serves them: the one table the model
 * (which kinds and apiVersions it converts), the sources (what they list, watch and accept from
 * files) and the lab (what it hands agents) all use. pkg/source re-exports it.
 *
 * It lives in the model, not in pkg/source, because the model is what decides which kinds
 * matter: a new kind needs a converter here first. Sources already depend on the model, so this
 * adds no edge, while the model importing pkg/source would pull the API client into pure code.
 */

const ROWS = [
  { kind: 'Node', group: '', version: 'v1', plural: 'nodes', namespaced: false },
  { kind: 'Service', group: '', version: 'v1', plural: 'services', namespaced: true },
  { kind: 'EndpointSlice', group: 'discovery.k8s.io', version: 'v1', plural: 'endpointslices', namespaced: true },
  { kind: 'Namespace', group: '', version: 'v1', plural: 'namespaces', namespaced: false },
] as const;

export type WatchedKind = (typeof ROWS)[number]['kind'];

export interface WatchedKindInfo {
  readonly kind: WatchedKind;
  /** The API group; "" for the core group. */
  readonly group: string;
  readonly version: string;
  /** The resource name in URLs. */
  readonly plural: string;
  readonly namespaced: boolean;
  /** As objects carry it: "v1", "discovery.k8s.io/v1". */
  readonly apiVersion: string;
  /** Every object of the kind, in all namespaces: what a list or watch requests. */
  readonly path: string;
}

function withDerived(row: (typeof ROWS)[number]): WatchedKindInfo {
  const { group, version, plural } = row;
  return {
    ...row,
    apiVersion: group ? `${group}/${version}` : version,
    path: group ? `/apis/${group}/${version}/${plural}` : `/api/${version}/${plural}`,
  };
}

/** In the order the agent's informers are started. */
export const WATCHED_KINDS: readonly WatchedKindInfo[] = Object.freeze(ROWS.map((row) => Object.freeze(withDerived(row))));

const BY_KIND = Object.fromEntries(WATCHED_KINDS.map((info) => [info.kind, info])) as Readonly<Record<WatchedKind, WatchedKindInfo>>;

export function isWatchedKind(kind: unknown): kind is WatchedKind {
  return typeof kind === 'string' && Object.hasOwn(BY_KIND, kind);
}

export function kindInfo(kind: WatchedKind): WatchedKindInfo {
  return BY_KIND[kind];
}
