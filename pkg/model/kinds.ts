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
  { kind: 'Node', group: '', version: 'v1', plural: 'nodes', namespaced: false, optional: false },
  { kind: 'Service', group: '', version: 'v1', plural: 'services', namespaced: true, optional: false },
  { kind: 'EndpointSlice', group: 'discovery.k8s.io', version: 'v1', plural: 'endpointslices', namespaced: true, optional: false },
  { kind: 'Namespace', group: '', version: 'v1', plural: 'namespaces', namespaced: false, optional: false },
  // Istio's CRD, absent from clusters without Istio (hence optional). v1beta1 and v1alpha3 have
  // the same schema as v1, so objects of any of them are read alike; which version a watch asks
  // for is the watching source's choice, once it watches this kind at all.
  {
    kind: 'DestinationRule',
    group: 'networking.istio.io',
    version: 'v1',
    plural: 'destinationrules',
    namespaced: true,
    optional: true,
    otherVersions: ['v1beta1', 'v1alpha3'],
  },
] as const;

/** Every kind the model reads, required or optional. */
export type WatchedKind = (typeof ROWS)[number]['kind'];
/** Kinds whose API may be absent (a CRD): listing them must not be what keeps a source from syncing. */
export type OptionalKind = Extract<(typeof ROWS)[number], { optional: true }>['kind'];
/** Kinds every cluster serves. */
export type RequiredKind = Exclude<WatchedKind, OptionalKind>;

export interface WatchedKindInfo {
  readonly kind: WatchedKind;
  /** The API group; "" for the core group. */
  readonly group: string;
  readonly version: string;
  /** The resource name in URLs. */
  readonly plural: string;
  readonly namespaced: boolean;
  /** Its API may be absent (a CRD that is not installed). */
  readonly optional: boolean;
  /** Every apiVersion objects of the kind are read at: `apiVersion` first. */
  readonly apiVersions: readonly string[];
  /** As objects carry it: "v1", "discovery.k8s.io/v1". */
  readonly apiVersion: string;
  /** Every object of the kind, in all namespaces: what a list or watch requests. */
  readonly path: string;
}

function withDerived(row: (typeof ROWS)[number]): WatchedKindInfo {
  const { kind, group, version, plural, namespaced, optional } = row;
  const versions = [version, ...('otherVersions' in row ? row.otherVersions : [])];
  const apiVersions = Object.freeze(versions.map((v) => (group ? `${group}/${v}` : v)));
  return {
    kind,
    group,
    version,
    plural,
    namespaced,
    optional,
    apiVersions,
    apiVersion: apiVersions[0]!,
    path: group ? `/apis/${group}/${version}/${plural}` : `/api/${version}/${plural}`,
  };
}

/** Every kind the model reads, in table order; files may hold any of them. */
export const MODEL_KINDS: readonly WatchedKindInfo[] = Object.freeze(ROWS.map((row) => Object.freeze(withDerived(row))));

/**
 * The kinds sources always list and watch, in the order the agent's informers are started: the
 * required ones. An optional kind is left out because listing a CRD that is not installed answers
 * 404, which would keep the whole source from ever syncing; KubernetesSource watches optional
 * kinds separately, only while discovery says the API server serves them.
 */
export const WATCHED_KINDS: ReadonlyArray<WatchedKindInfo & { readonly kind: RequiredKind }> = Object.freeze(
  MODEL_KINDS.filter((info): info is WatchedKindInfo & { readonly kind: RequiredKind } => !info.optional),
);

const BY_KIND = Object.fromEntries(MODEL_KINDS.map((info) => [info.kind, info])) as Readonly<Record<WatchedKind, WatchedKindInfo>>;

export function isWatchedKind(kind: unknown): kind is WatchedKind {
  return typeof kind === 'string' && Object.hasOwn(BY_KIND, kind);
}

export function kindInfo(kind: WatchedKind): WatchedKindInfo {
  return BY_KIND[kind];
}
