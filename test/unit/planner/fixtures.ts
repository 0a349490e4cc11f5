/**
 * Builders for Kubernetes-shaped objects, as YAML or an informer would hand them over, so each
 * test states only what it is about. The seed topology (000/002) is the default.
 */
import { expect } from 'vitest';
import { buildSnapshot, type Snapshot } from '../../../pkg/model/index.js';
import { plan, type Plan, type PlannedEntry, type PlannedService, type PlanOptions } from '../../../pkg/planner/index.js';

type Raw = Record<string, unknown>;

export interface NodeLocalityLabels {
  region?: string;
  zone?: string;
  /** Written as topology.kubernetes.io/subzone, as the seeds do. */
  subzone?: string;
  istioSubzone?: string;
  network?: string;
}

export function node(name: string, locality: NodeLocalityLabels = {}, extraLabels: Record<string, string> = {}): Raw {
  const labels: Record<string, string> = { 'kubernetes.io/hostname': name, ...extraLabels };
  if (locality.region !== undefined) labels['topology.kubernetes.io/region'] = locality.region;
  if (locality.zone !== undefined) labels['topology.kubernetes.io/zone'] = locality.zone;
  if (locality.subzone !== undefined) labels['topology.kubernetes.io/subzone'] = locality.subzone;
  if (locality.istioSubzone !== undefined) labels['topology.istio.io/subzone'] = locality.istioSubzone;
  if (locality.network !== undefined) labels['topology.istio.io/network'] = locality.network;
  return { apiVersion: 'v1', kind: 'Node', metadata: { name, labels } };
}

export function namespace(name: string, annotations: Record<string, string> = {}): Raw {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, annotations } };
}

export interface PortSpec {
  name?: string;
  port: number;
  protocol?: string;
}

export interface ServiceSpec {
  namespace?: string;
  type?: string;
  clusterIP?: string;
  clusterIPs?: string[];
  ports?: PortSpec[];
  trafficDistribution?: string;
  internalTrafficPolicy?: string;
  annotations?: Record<string, string>;
  labels?: Record<string, string>;
}

export const SEED_VIP = '10.96.0.100';
export const SEED_VIP6 = 'fd00:10:96::100';
export const SEED_PORT: PortSpec = { name: 'http', port: 5000, protocol: 'TCP' };

export function service(name: string, spec: ServiceSpec = {}): Raw {
  const { namespace: ns = 'sample', annotations = {}, labels, ports = [SEED_PORT], ...rest } = spec;
  const body: Raw = { ports, selector: { app: name } };
  if (rest.type !== undefined) body['type'] = rest.type;
  if (rest.clusterIPs !== undefined) body['clusterIPs'] = rest.clusterIPs;
  body['clusterIP'] = rest.clusterIP ?? rest.clusterIPs?.[0] ?? SEED_VIP;
  if (rest.trafficDistribution !== undefined) body['trafficDistribution'] = rest.trafficDistribution;
  if (rest.internalTrafficPolicy !== undefined) body['internalTrafficPolicy'] = rest.internalTrafficPolicy;
  const metadata = { name, namespace: ns, annotations, ...(labels ? { labels } : {}) };
  return { apiVersion: 'v1', kind: 'Service', metadata, spec: body };
}

export interface EndpointSpec {
  address: string | null;
  node?: string;
  zone?: string;
  pod?: string;
  ready?: boolean;
  serving?: boolean;
  terminating?: boolean;
  /** Topology Aware Routing hints: hints.forZones[].name and hints.forNodes[].name. */
  forZones?: string[];
  forNodes?: string[];
}

/** An endpoint on a node; its pod is named after the node unless given. */
export function ep(address: string | null, nodeName?: string, more: Omit<EndpointSpec, 'address' | 'node'> = {}): EndpointSpec {
  return { address, ...(nodeName !== undefined ? { node: nodeName } : {}), ...more };
}

export interface SliceSpec {
  service: string;
  namespace?: string;
  addressType?: string;
  ports?: Array<{ name?: string; port?: number; protocol?: string }>;
  endpoints: EndpointSpec[];
}

export function slice(name: string, spec: SliceSpec): Raw {
  const { namespace: ns = 'sample', addressType = 'IPv4', ports = [{ name: 'http', port: 5000, protocol: 'TCP' }] } = spec;
  const endpoints = spec.endpoints.map((e) => {
    const conditions: Raw = {};
    if (e.ready !== undefined) conditions['ready'] = e.ready;
    if (e.serving !== undefined) conditions['serving'] = e.serving;
    if (e.terminating !== undefined) conditions['terminating'] = e.terminating;
    const out: Raw = { addresses: e.address === null ? [] : [e.address], conditions };
    if (e.node !== undefined) out['nodeName'] = e.node;
    if (e.zone !== undefined) out['zone'] = e.zone;
    const pod = e.pod ?? (e.node !== undefined ? `helloworld-${e.node}` : undefined);
    if (pod !== undefined) out['targetRef'] = { kind: 'Pod', namespace: ns, name: pod };
    if (e.forZones !== undefined || e.forNodes !== undefined) {
      const named = (names: string[] | undefined): Raw[] | undefined => names?.map((n) => ({ name: n }));
      out['hints'] = { forZones: named(e.forZones), forNodes: named(e.forNodes) };
    }
    return out;
  });
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name, namespace: ns, labels: { 'kubernetes.io/service-name': spec.service } },
    addressType,
    ports,
    endpoints,
  };
}

/** Seed 000/002: three workers, region r, w1 and w2 in zone z1, w3 in zone z2. */
export function seedNodes(): Raw[] {
  return [
    node('w1', { region: 'r', zone: 'z1', subzone: 's1' }),
    node('w2', { region: 'r', zone: 'z1', subzone: 's2' }),
    node('w3', { region: 'r', zone: 'z2', subzone: 's3' }),
  ];
}

export const POD = { w1: '10.244.1.10', w2: '10.244.2.10', w3: '10.244.3.10' } as const;
export const POD6 = { w1: 'fd00:10:244:1::a', w2: 'fd00:10:244:2::a', w3: 'fd00:10:244:3::a' } as const;

/** One helloworld pod per worker, as the seed deploys them. */
export function seedEndpoints(): EndpointSpec[] {
  return [ep(POD.w1, 'w1'), ep(POD.w2, 'w2'), ep(POD.w3, 'w3')];
}

export function snapshotOf(objects: unknown[]): Snapshot {
  const { snapshot, rejected } = buildSnapshot(objects);
  expect(rejected).toEqual([]);
  return snapshot;
}

export function planFor(objects: unknown[], nodeName: string, options: Partial<PlanOptions> = {}): Plan {
  return plan(snapshotOf(objects), nodeName, options);
}

/** sample/helloworld as planned on w1 from a snapshot. */
export function planOf(snapshot: Snapshot, key = 'sample/helloworld'): PlannedService {
  return plannedService(plan(snapshot, 'w1'), key);
}

export function plannedService(result: Plan, key = 'sample/helloworld'): PlannedService {
  const found = result.services.find((s) => s.service === key);
  if (!found) throw new Error(`service ${key} not planned; skipped: ${JSON.stringify(result.skipped)}`);
  return found;
}

export function entryOf(result: Plan, key = 'sample/helloworld', index = 0): PlannedEntry {
  const entry = plannedService(result, key).entries[index];
  if (!entry) throw new Error(`service ${key} has no entry ${index}`);
  return entry;
}

/** The tiers of one entry as address lists: the shape most assertions want. */
export function tierAddresses(result: Plan, key = 'sample/helloworld', index = 0): string[][] {
  return entryOf(result, key, index).tiers.map((tier) => tier.endpoints.map((e) => e.address));
}

/** `count` tiers, empty but for the ones given. */
export function tiers(count: number, filled: Record<number, string[]>): string[][] {
  return Array.from({ length: count }, (_, i) => filled[i] ?? []);
}
