/*
 * A synthetic cluster at the benchmark's scale, as raw Kubernetes objects: nodes spread over
 * regions x zones x subzones, Services with a mix of traffic policies, one EndpointSlice per
 * Service with endpoints spread over random nodes. Deterministic (seeded), so runs compare.
 */

export interface ClusterShape {
  readonly nodes: number;
  readonly regions: number;
  readonly zonesPerRegion: number;
  readonly subzonesPerZone: number;
  readonly services: number;
  readonly endpoints: number;
}

export const BENCH_SHAPE: ClusterShape = {
  nodes: 5_000,
  regions: 3,
  zonesPerRegion: 3,
  subzonesPerZone: 2,
  services: 10_000,
  endpoints: 100_000,
};

export const SUBZONE_LABEL = 'topology.istio.io/subzone';

/** mulberry32: a tiny seeded PRNG, so the cluster is the same on every run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const nodeName = (n: number): string => `node-${n}`;
const vip = (s: number): string => `10.96.${s >> 8}.${s & 255}`;
const podIp = (i: number): string => `10.${128 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;

export function nodeObject(n: number, shape: ClusterShape, zoneOverride?: { region: string; zone: string; subzone: string }): unknown {
  const perRegion = shape.zonesPerRegion * shape.subzonesPerZone;
  const cell = n % (shape.regions * perRegion);
  const region = `region-${Math.floor(cell / perRegion)}`;
  const zone = `${region}-z${Math.floor((cell % perRegion) / shape.subzonesPerZone)}`;
  const subzone = `${zone}-s${cell % shape.subzonesPerZone}`;
  const where = zoneOverride ?? { region, zone, subzone };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: nodeName(n),
      labels: {
        'kubernetes.io/hostname': nodeName(n),
        'topology.kubernetes.io/region': where.region,
        'topology.kubernetes.io/zone': where.zone,
        [SUBZONE_LABEL]: where.subzone,
      },
    },
  };
}

/** One in three PreferClose (spec field), one in ten Local, the rest with no policy. */
function policyOf(s: number): Record<string, string> {
  if (s % 10 === 0) return { internalTrafficPolicy: 'Local' };
  if (s % 3 === 0) return { trafficDistribution: 'PreferClose' };
  return {};
}

export function serviceObject(s: number): unknown {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: `svc-${s}`, namespace: `ns-${s % 50}` },
    spec: {
      clusterIP: vip(s),
      clusterIPs: [vip(s)],
      ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 }],
      ...policyOf(s),
    },
  };
}

/**
 * A DestinationRule for Service s, cycling through the forms nearby plans: failover between
 * regions, distribute from the client's region, failoverPriority on node labels, locality off,
 * and a rule that only sets the balance inside tiers. With `consistentHash`, the rule balances inside
 * its tiers by source (a Maglev table per non-empty tier) instead of its own `simple`.
 */
const RULE_FORMS = ['failover', 'distribute', 'failoverPriority', 'disabled', 'simple'] as const;

/** Which form destinationRuleObject(s) takes. */
export const ruleForm = (s: number): (typeof RULE_FORMS)[number] => RULE_FORMS[Math.floor(s / 5) % RULE_FORMS.length]!;

export function destinationRuleObject(s: number, consistentHash = false): unknown {
  const region = `region-${s % 3}`;
  const forms: Record<(typeof RULE_FORMS)[number], Record<string, unknown>> = {
    failover: { localityLbSetting: { failover: [{ from: region, to: `region-${(s + 1) % 3}` }] } },
    distribute: {
      localityLbSetting: {
        distribute: [{ from: `${region}/*`, to: { [`${region}/${region}-z0/*`]: 70, [`${region}/${region}-z1/*`]: 30 } }],
      },
    },
    failoverPriority: { localityLbSetting: { failoverPriority: ['topology.kubernetes.io/region', 'topology.kubernetes.io/zone'] } },
    disabled: { localityLbSetting: { enabled: false } },
    simple: { simple: 'ROUND_ROBIN' },
  };
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'DestinationRule',
    metadata: { name: `svc-${s}`, namespace: `ns-${s % 50}`, creationTimestamp: '2026-01-01T00:00:00Z' },
    spec: {
      host: `svc-${s}`,
      trafficPolicy: { loadBalancer: consistentHash ? withConsistentHash(forms[ruleForm(s)]) : forms[ruleForm(s)] },
    },
  };
}

/** The rule's loadBalancer with consistentHash by source in place of its `simple`. */
function withConsistentHash(loadBalancer: Record<string, unknown>): Record<string, unknown> {
  const { simple: _simple, ...rest } = loadBalancer;
  return { ...rest, consistentHash: { useSourceIp: true } };
}

/**
 * With --maglev, one rule in BENCH_MAGLEV_EVERY (default 2: half) is consistentHash, by rule
 * index, so with an `every` prime to the five forms each form gets its share.
 */
export const MAGLEV_EVERY = Math.max(1, Number(process.env['BENCH_MAGLEV_EVERY'] ?? 2));
export const isMaglevRule = (ruleIndex: number): boolean => ruleIndex % MAGLEV_EVERY === MAGLEV_EVERY - 1;

export interface SliceEndpoint {
  readonly ip: string;
  readonly node: number;
  ready: boolean;
}

export function sliceObject(s: number, endpoints: readonly SliceEndpoint[], generation = 0): unknown {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: `svc-${s}-abcde`,
      namespace: `ns-${s % 50}`,
      labels: { 'kubernetes.io/service-name': `svc-${s}` },
      resourceVersion: String(generation),
    },
    addressType: 'IPv4',
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    endpoints: endpoints.map((e) => ({
      addresses: [e.ip],
      conditions: { ready: e.ready, serving: e.ready, terminating: false },
      nodeName: nodeName(e.node),
    })),
  };
}

/** The shape sliceObject() gives, as far as the benchmark changes it. */
export interface RawSlice {
  readonly metadata: { readonly name: string; readonly namespace: string; readonly resourceVersion: string };
  readonly endpoints: ReadonlyArray<{ readonly conditions: { readonly ready: boolean } }>;
}

export const sliceName = (s: number): string => `ns-${s % 50}/svc-${s}-abcde`;

/** A new version of a slice with one endpoint's readiness (and serving) flipped, as a watch event brings. */
export function withReadinessFlipped(slice: RawSlice, index: number, generation: number): unknown {
  return {
    ...slice,
    metadata: { ...slice.metadata, resourceVersion: String(generation) },
    endpoints: slice.endpoints.map((e, i) =>
      i === index ? { ...e, conditions: { ...e.conditions, ready: !e.conditions.ready, serving: !e.conditions.ready } } : e,
    ),
  };
}

/** Every object of the cluster, without keeping anything else of the generator alive. */
export function syntheticObjects(shape: ClusterShape = BENCH_SHAPE, seed = 1, destinationRules = 0, maglev = false): unknown[] {
  const { nodes, services, slices } = syntheticCluster(shape, seed);
  // Spread evenly: with 2,000 rules over 10,000 Services, one for every fifth Service.
  const every = destinationRules > 0 ? Math.max(1, Math.floor(shape.services / destinationRules)) : 0;
  const rules = Array.from({ length: destinationRules }, (_, i) => destinationRuleObject(i * every, maglev && isMaglevRule(i)));
  return [...nodes, ...services, ...slices, ...rules];
}

export interface SyntheticCluster {
  readonly shape: ClusterShape;
  readonly nodes: unknown[];
  readonly services: unknown[];
  /** Per Service, its endpoints (mutable: the benchmark flips readiness). */
  readonly endpoints: SliceEndpoint[][];
  readonly slices: unknown[];
}

export function syntheticCluster(shape: ClusterShape = BENCH_SHAPE, seed = 1): SyntheticCluster {
  const random = seededRandom(seed);
  const perService = Math.floor(shape.endpoints / shape.services);
  let ip = 0;
  const endpoints = Array.from({ length: shape.services }, () =>
    Array.from({ length: perService }, (): SliceEndpoint => ({ ip: podIp(ip++), node: Math.floor(random() * shape.nodes), ready: true })),
  );
  return {
    shape,
    nodes: Array.from({ length: shape.nodes }, (_, n) => nodeObject(n, shape)),
    services: Array.from({ length: shape.services }, (_, s) => serviceObject(s)),
    endpoints,
    slices: endpoints.map((e, s) => sliceObject(s, e)),
  };
}
