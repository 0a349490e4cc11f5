/*
 * The objects a user applies, read and checked before anything changes: Namespaces, Services,
 * Deployments, bare Pods and Node label overrides. Fields the lab does not simulate (resources,
 * volumes, imagePullPolicy, ...) are accepted and ignored, as a kind user's manifests have them.
 */
import { isIP } from 'node:net';
import {
  annotationsProblem,
  enumProblem,
  INTERNAL_TRAFFIC_POLICIES,
  ipListProblem,
  ipProblem,
  labelsProblem,
  TRAFFIC_DISTRIBUTIONS,
} from './api-rules.js';
import { endpointSliceProblem } from './endpoint-slice-rules.js';
import { LabError } from './errors.js';
import { imageProgram, type ImageProgram } from './images.js';

export type Labels = Readonly<Record<string, string>>;
type Raw = Record<string, unknown>;

export interface ContainerPort {
  readonly containerPort: number;
  readonly protocol: 'TCP' | 'UDP' | 'SCTP';
  readonly name?: string;
}

export type EnvVar = { readonly name: string; readonly value: string } | { readonly name: string; readonly fieldPath: string };

export interface ContainerSpec {
  readonly name: string;
  readonly image: string;
  readonly program: ImageProgram;
  readonly env: readonly EnvVar[];
  readonly ports: readonly ContainerPort[];
}

export interface MatchExpression {
  readonly key: string;
  readonly operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  readonly values: readonly string[];
}

export interface Toleration {
  readonly key?: string;
  readonly operator: 'Equal' | 'Exists';
  readonly value?: string;
  readonly effect?: string;
}

export interface PodSpec {
  readonly containers: readonly ContainerSpec[];
  readonly nodeSelector: Labels;
  /** requiredDuringSchedulingIgnoredDuringExecution terms: any one must match. */
  readonly affinityTerms: ReadonlyArray<readonly MatchExpression[]>;
  readonly tolerations: readonly Toleration[];
  readonly nodeName?: string;
  readonly terminationGracePeriodSeconds?: number;
}

export interface ServicePortSpec {
  readonly name: string;
  readonly port: number;
  readonly targetPort: number | string;
  readonly protocol: 'TCP' | 'UDP' | 'SCTP';
}

export type Applied =
  | { readonly kind: 'Namespace'; readonly name: string; readonly raw: Raw }
  | { readonly kind: 'Node'; readonly name: string; readonly labels: Labels; readonly raw: Raw }
  | {
      readonly kind: 'Service';
      readonly namespace: string;
      readonly name: string;
      readonly selector: Labels | undefined;
      readonly ports: readonly ServicePortSpec[];
      /** As written: an address, "None", or undefined to allocate one. */
      readonly clusterIP: string | undefined;
      readonly raw: Raw;
    }
  | {
      readonly kind: 'Deployment';
      readonly namespace: string;
      readonly name: string;
      readonly replicas: number;
      readonly selector: Labels;
      readonly template: { readonly labels: Labels; readonly spec: PodSpec; readonly raw: Raw };
      readonly raw: Raw;
    }
  | {
      readonly kind: 'Pod';
      readonly namespace: string;
      readonly name: string;
      readonly labels: Labels;
      readonly spec: PodSpec;
      readonly raw: Raw;
    }
  | { readonly kind: 'Ignored'; readonly kindName: string; readonly name: string; readonly raw: Raw };

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

const API_VERSIONS: Readonly<Record<string, string>> = {
  Namespace: 'v1',
  Node: 'v1',
  Service: 'v1',
  Pod: 'v1',
  Deployment: 'apps/v1',
};

class Bad extends Error {}

function isRecord(value: unknown): value is Raw {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function record(parent: Raw, key: string, path: string): Raw {
  const value = parent[key];
  if (value === undefined || value === null) return {};
  if (!isRecord(value)) throw new Bad(`${path}${key}: expected an object`);
  return value;
}

function list(parent: Raw, key: string, path: string): unknown[] {
  const value = parent[key];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new Bad(`${path}${key}: expected a list`);
  return value;
}

function optionalString(parent: Raw, key: string, path: string): string | undefined {
  const value = parent[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new Bad(`${path}${key}: expected a string`);
  return value;
}

/** A map of labels (or a label selector), refused where an API server refuses it. */
function labels(parent: Raw, key: string, path: string, reportedAs = `${path}${key}`): Record<string, string> {
  const value = record(parent, key, path);
  for (const [k, v] of Object.entries(value)) if (typeof v !== 'string') throw new Bad(`${path}${key}.${k}: expected a string value`);
  const problem = labelsProblem(value as Record<string, string>, reportedAs);
  if (problem) throw new Bad(problem);
  return value as Record<string, string>;
}

/**
 * What every object's metadata must satisfy: label and annotation keys, label values. `prefix` is
 * where the API server reports them: "metadata." for an object, "spec.template." for a pod
 * template (its ObjectMeta is validated at the template's path, not at its metadata's).
 */
function checkMetadata(metadata: Raw, path: string, prefix: string): void {
  labels(metadata, 'labels', path, `${prefix}labels`);
  const problem = annotationsProblem(record(metadata, 'annotations', path), `${prefix}annotations`);
  if (problem) throw new Bad(problem);
}

function port(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 65535)
    throw new Bad(`${path}: expected a port number 1-65535`);
  return value;
}

function protocol(parent: Raw, path: string): 'TCP' | 'UDP' | 'SCTP' {
  const value = parent['protocol'] ?? 'TCP';
  if (value !== 'TCP' && value !== 'UDP' && value !== 'SCTP') throw new Bad(`${path}protocol: expected TCP, UDP or SCTP`);
  return value;
}

const FIELD_PATHS = new Set(['metadata.name', 'metadata.namespace', 'spec.nodeName', 'status.podIP', 'status.hostIP']);

function envVars(container: Raw, path: string): EnvVar[] {
  return list(container, 'env', path).map((item, i) => {
    const where = `${path}env[${i}].`;
    if (!isRecord(item) || typeof item['name'] !== 'string') throw new Bad(`${where}name: expected a string`);
    const name = item['name'];
    if (item['valueFrom'] !== undefined) {
      const fieldPath = record(record(item, 'valueFrom', where), 'fieldRef', `${where}valueFrom.`)['fieldPath'];
      if (typeof fieldPath !== 'string' || !FIELD_PATHS.has(fieldPath)) {
        throw new Bad(`${where}valueFrom: the lab supports only fieldRef of ${[...FIELD_PATHS].join(', ')}`);
      }
      return { name, fieldPath };
    }
    const value = item['value'];
    if (value === undefined || value === null) return { name, value: '' };
    // A YAML number or boolean stands for its text, as an unquoted value would; a map or a list is no value.
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean')
      throw new Bad(`${where}value: expected a string`);
    return { name, value: String(value) };
  });
}

function containers(spec: Raw, path: string): ContainerSpec[] {
  const items = list(spec, 'containers', path);
  if (items.length === 0) throw new Bad(`${path}containers: at least one container is required`);
  const names = new Set<string>();
  return items.map((item, i) => {
    const where = `${path}containers[${i}].`;
    if (!isRecord(item)) throw new Bad(`${where.slice(0, -1)}: expected an object`);
    const name = optionalString(item, 'name', where);
    if (!name || !DNS_LABEL.test(name)) throw new Bad(`${where}name: expected a DNS label`);
    if (names.has(name)) throw new Bad(`${where}name: duplicate container name ${JSON.stringify(name)}`);
    names.add(name);
    const image = optionalString(item, 'image', where);
    if (!image) throw new Bad(`${where}image: required`);
    const ports = list(item, 'ports', where).map((p, j) => {
      const pw = `${where}ports[${j}].`;
      if (!isRecord(p)) throw new Bad(`${pw.slice(0, -1)}: expected an object`);
      const portName = optionalString(p, 'name', pw);
      return {
        containerPort: port(p['containerPort'], `${pw}containerPort`),
        protocol: protocol(p, pw),
        ...(portName ? { name: portName } : {}),
      };
    });
    return { name, image, program: imageProgram(image, `${where}image`), env: envVars(item, where), ports };
  });
}

function matchExpressions(term: Raw, path: string): MatchExpression[] {
  return list(term, 'matchExpressions', path).map((e, i) => {
    const where = `${path}matchExpressions[${i}].`;
    if (!isRecord(e) || typeof e['key'] !== 'string') throw new Bad(`${where}key: expected a string`);
    const operator = e['operator'];
    if (operator !== 'In' && operator !== 'NotIn' && operator !== 'Exists' && operator !== 'DoesNotExist') {
      throw new Bad(`${where}operator: the lab supports In, NotIn, Exists and DoesNotExist`);
    }
    const values = list(e, 'values', where).map(String);
    return { key: e['key'], operator, values };
  });
}

function podSpec(spec: Raw, path: string): PodSpec {
  const required = record(
    record(record(spec, 'affinity', path), 'nodeAffinity', `${path}affinity.`),
    'requiredDuringSchedulingIgnoredDuringExecution',
    `${path}affinity.nodeAffinity.`,
  );
  const termsPath = `${path}affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.`;
  const affinityTerms = list(required, 'nodeSelectorTerms', termsPath).map((t, i) => {
    if (!isRecord(t)) throw new Bad(`${termsPath}nodeSelectorTerms[${i}]: expected an object`);
    return matchExpressions(t, `${termsPath}nodeSelectorTerms[${i}].`);
  });
  const tolerations = list(spec, 'tolerations', path).map((t, i): Toleration => {
    const where = `${path}tolerations[${i}].`;
    if (!isRecord(t)) throw new Bad(`${where.slice(0, -1)}: expected an object`);
    const key = optionalString(t, 'key', where);
    const value = optionalString(t, 'value', where);
    const effect = optionalString(t, 'effect', where);
    const operator = t['operator'] === 'Exists' ? 'Exists' : 'Equal';
    return { operator, ...(key ? { key } : {}), ...(value !== undefined ? { value } : {}), ...(effect ? { effect } : {}) };
  });
  const grace = spec['terminationGracePeriodSeconds'];
  if (grace !== undefined && (typeof grace !== 'number' || grace < 0))
    throw new Bad(`${path}terminationGracePeriodSeconds: expected seconds >= 0`);
  const nodeName = optionalString(spec, 'nodeName', path);
  return {
    containers: containers(spec, path),
    nodeSelector: labels(spec, 'nodeSelector', path),
    affinityTerms,
    tolerations,
    ...(nodeName ? { nodeName } : {}),
    ...(typeof grace === 'number' ? { terminationGracePeriodSeconds: grace } : {}),
  };
}

/**
 * spec.clusterIP and spec.clusterIPs, checked as the API server checks them: each an address (or
 * None), the first of clusterIPs equal to clusterIP. The lab is IPv4 single-stack, so it refuses
 * a second family rather than drop it.
 */
function clusterAddress(spec: Raw): string | undefined {
  const clusterIP = optionalString(spec, 'clusterIP', 'spec.') || undefined;
  const clusterIPs = list(spec, 'clusterIPs', 'spec.');
  const addresses = clusterIPs.filter((ip) => ip !== 'None');
  const problem =
    (clusterIP && clusterIP !== 'None' ? ipProblem(clusterIP, 'spec.clusterIP') : undefined) ?? ipListProblem(addresses, 'spec.clusterIPs');
  if (problem) throw new Bad(problem);
  const first = clusterIPs[0] as string | undefined;
  if (clusterIP && first !== undefined && first !== clusterIP)
    throw new Bad(`spec.clusterIPs: Invalid value: ${JSON.stringify(clusterIPs)}: first value must match \`clusterIP\``);
  const chosen = clusterIP ?? first;
  if (chosen && chosen !== 'None' && isIP(chosen) !== 4) throw new Bad(`spec.clusterIP: ${JSON.stringify(chosen)}: the lab is IPv4 only`);
  if (clusterIPs.length > 1) throw new Bad('spec.clusterIPs: the lab is IPv4 single-stack: give one address');
  return chosen;
}

function serviceFields(spec: Raw): Pick<Extract<Applied, { kind: 'Service' }>, 'selector' | 'ports' | 'clusterIP'> {
  const rawPorts = list(spec, 'ports', 'spec.');
  const ports = rawPorts.map((p, i) => {
    const where = `spec.ports[${i}].`;
    if (!isRecord(p)) throw new Bad(`${where.slice(0, -1)}: expected an object`);
    const servicePort = port(p['port'], `${where}port`);
    const name = optionalString(p, 'name', where) ?? '';
    if (rawPorts.length > 1 && !name) throw new Bad(`${where}name: required when a Service has more than one port`);
    const target = p['targetPort'];
    const targetPort = typeof target === 'string' ? target : target === undefined ? servicePort : port(target, `${where}targetPort`);
    return { name, port: servicePort, targetPort, protocol: protocol(p, where) };
  });
  const selector = isRecord(spec['selector']) ? labels(spec, 'selector', 'spec.') : undefined;
  const problem =
    enumProblem(spec['trafficDistribution'], TRAFFIC_DISTRIBUTIONS, 'spec.trafficDistribution') ??
    enumProblem(spec['internalTrafficPolicy'], INTERNAL_TRAFFIC_POLICIES, 'spec.internalTrafficPolicy');
  if (problem) throw new Bad(problem);
  const clusterIP = clusterAddress(spec);
  const external = ipListProblem(list(spec, 'externalIPs', 'spec.'), 'spec.externalIPs');
  if (external) throw new Bad(external);
  return { selector, ports, clusterIP };
}

/** "Deployment sample/helloworld" */
export function describeObject(kind: string, namespace: string | undefined, name: string): string {
  return namespace ? `${kind} ${namespace}/${name}` : `${kind} ${name}`;
}

/**
 * The one format of every lab rejection, an API server's: the object, the field path, the problem
 * ("Service sample/x: spec.clusterIP: 192.168.7.7 is not in the service CIDR 10.96.0.0/16").
 */
export function rejection(kind: string, namespace: string | undefined, name: string, field: string, problem: string): string {
  return `${describeObject(kind, namespace, name)}: ${field}: ${problem}`;
}

/** An EndpointSlice is not simulated (the lab's controller makes its own) but refused where a cluster refuses it. */
function checkedEndpointSlice(raw: Raw, origin: string, metadata: Raw, name: string, namespace: string): Applied {
  const ns = (typeof metadata['namespace'] === 'string' && metadata['namespace']) || namespace || 'default';
  const problem =
    (raw['apiVersion'] === 'discovery.k8s.io/v1'
      ? undefined
      : `apiVersion: ${JSON.stringify(raw['apiVersion'])}: the lab reads EndpointSlice as discovery.k8s.io/v1`) ??
    (DNS_SUBDOMAIN.test(name) ? undefined : `metadata.name: ${JSON.stringify(name)} is not a valid EndpointSlice name`) ??
    endpointSliceProblem(raw);
  if (problem) throw new LabError('invalid', `${origin}: ${describeObject('EndpointSlice', ns, name)}: ${problem}`);
  return { kind: 'Ignored', kindName: 'EndpointSlice', name, raw };
}

/**
 * Reads one document. `namespace` is the -n of the command: the default for objects without
 * one, and an error for objects that name another (as kubectl does).
 */
export function readApplied(raw: Raw, origin: string, namespace: string): Applied {
  const kind = typeof raw['kind'] === 'string' ? raw['kind'] : '';
  const metadata = isRecord(raw['metadata']) ? raw['metadata'] : {};
  const name = typeof metadata['name'] === 'string' ? metadata['name'] : '';
  if (!kind) throw new LabError('invalid', `${origin}: kind: Required value`);
  if (!name) throw new LabError('invalid', `${origin}: ${kind}: metadata.name: Required value`);
  if (kind === 'EndpointSlice') return checkedEndpointSlice(raw, origin, metadata, name, namespace);
  const expected = API_VERSIONS[kind];
  if (expected === undefined) return { kind: 'Ignored', kindName: kind, name, raw };

  const namespaced = kind !== 'Namespace' && kind !== 'Node';
  const own = typeof metadata['namespace'] === 'string' && metadata['namespace'] ? metadata['namespace'] : undefined;
  if (namespaced && own && own !== namespace && namespace !== '') {
    throw new LabError(
      'invalid',
      `${origin}: ${rejection(kind, own, name, 'metadata.namespace', `the namespace from the provided object ${JSON.stringify(own)} does not match the namespace ${JSON.stringify(namespace)}`)}`,
    );
  }
  const ns = own ?? (namespace || 'default');
  const what = describeObject(kind, namespaced ? ns : undefined, name);
  try {
    if (raw['apiVersion'] !== expected)
      throw new Bad(`apiVersion: ${JSON.stringify(raw['apiVersion'])}: the lab reads ${kind} as ${expected}`);
    const nameRule = kind === 'Namespace' || kind === 'Service' ? DNS_LABEL : DNS_SUBDOMAIN;
    if (!nameRule.test(name)) throw new Bad(`metadata.name: ${JSON.stringify(name)} is not a valid ${kind} name`);
    checkMetadata(metadata, 'metadata.', 'metadata.');
    const normalized = namespaced ? { ...raw, metadata: { ...metadata, namespace: ns } } : raw;
    const spec = record(raw, 'spec', '');
    switch (kind) {
      case 'Namespace':
        return { kind, name, raw: normalized };
      case 'Node':
        return { kind, name, labels: labels(metadata, 'labels', 'metadata.'), raw: normalized };
      case 'Service':
        return { kind, namespace: ns, name, ...serviceFields(spec), raw: normalized };
      case 'Pod':
        return {
          kind,
          namespace: ns,
          name,
          labels: labels(metadata, 'labels', 'metadata.'),
          spec: podSpec(spec, 'spec.'),
          raw: normalized,
        };
      default: {
        const replicas = spec['replicas'] ?? 1;
        if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0)
          throw new Bad('spec.replicas: expected an integer >= 0');
        const selector = labels(record(spec, 'selector', 'spec.'), 'matchLabels', 'spec.selector.');
        if (Object.keys(selector).length === 0) throw new Bad('spec.selector.matchLabels: required (the lab supports matchLabels only)');
        const template = record(spec, 'template', 'spec.');
        checkMetadata(record(template, 'metadata', 'spec.template.'), 'spec.template.metadata.', 'spec.template.');
        const templateLabels = labels(record(template, 'metadata', 'spec.template.'), 'labels', 'spec.template.metadata.');
        for (const [k, v] of Object.entries(selector)) {
          if (templateLabels[k] !== v) throw new Bad('spec.template.metadata.labels: `selector` does not match template `labels`');
        }
        const templateSpec = podSpec(record(template, 'spec', 'spec.template.'), 'spec.template.spec.');
        return {
          kind: 'Deployment',
          namespace: ns,
          name,
          replicas,
          selector,
          template: { labels: templateLabels, spec: templateSpec, raw: template },
          raw: normalized,
        };
      }
    }
  } catch (error) {
    if (error instanceof Bad) throw new LabError('invalid', `${origin}: ${what}: ${error.message}`);
    if (error instanceof LabError) throw new LabError(error.code, `${origin}: ${what}: ${error.message}`);
    throw error;
  }
}
