import { isCanonicalIp, parseIp } from '../ip/index.js';
import { clusterKey, tagCluster } from './clusters.js';
import { toDestinationRule } from './destination-rule.js';
import type { DestinationRule } from './destination-rule-types.js';
import { isSharedConditions, sharedConditions } from './conditions.js';
import { sharedPortList } from './shared-ports.js';
import { serviceKey } from './service-key.js';
import { isWatchedKind, kindInfo, type WatchedKind } from './kinds.js';
import { readSessionAffinity } from './session-affinity.js';
import {
  BadField,
  isRecord,
  readList,
  readOptionalBoolean,
  readOptionalPort,
  readOptionalString,
  readRecord,
  readRequiredString,
  readStringMap,
  readStringMapValue,
  type RawRecord,
} from './read.js';
import {
  SERVICE_NAME_LABEL,
  SERVICE_PROXY_NAME_LABEL,
  type AddressType,
  type Endpoint,
  type EndpointHints,
  type EndpointPort,
  type EndpointSlice,
  type IpAddress,
  type Namespace,
  type Node,
  type ObjectReference,
  type Protocol,
  type Rejection,
  type RejectionCode,
  type Service,
  type ServicePort,
} from './types.js';

/** One converted object, tagged by kind so a snapshot can be assembled from a stream of them. */
export type ModelObject =
  | { readonly kind: 'Node'; readonly node: Node }
  | { readonly kind: 'Namespace'; readonly namespace: Namespace }
  | { readonly kind: 'Service'; readonly service: Service }
  | { readonly kind: 'EndpointSlice'; readonly endpointSlice: EndpointSlice }
  | { readonly kind: 'DestinationRule'; readonly destinationRule: DestinationRule };

export type Conversion =
  | { readonly status: 'accepted'; readonly object: ModelObject }
  /** A kind nearby does not read (a Deployment in a manifest directory, say). */
  | { readonly status: 'ignored' }
  | { readonly status: 'rejected'; readonly rejection: Rejection };

function apiGroup(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? '' : apiVersion.slice(0, slash);
}

/**
 * Model objects are shared between passes (conversions are cached per raw object), so nothing may
 * change them. The readonly types enforce that at compile time; freezing them too catches what
 * slips past the types, at ~80 ms per 100,000 endpoints. Tests turn it on; the agent does not pay.
 */
let freezeModel = false;

export function freezeModelObjects(on: boolean): void {
  freezeModel = on;
}

function deepFreeze<T>(value: T): T {
  if (!freezeModel) return value;
  freezeDeep(value);
  return value;
}

function freezeDeep(value: unknown): void {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) freezeDeep(child);
    Object.freeze(value);
  }
}

/** Names an object for a rejection without trusting its shape. */
function nameForReport(raw: RawRecord, kind: string): string {
  const metadata = isRecord(raw['metadata']) ? raw['metadata'] : {};
  const name = typeof metadata['name'] === 'string' ? metadata['name'] : '';
  if (!isWatchedKind(kind) || !kindInfo(kind).namespaced) return name;
  const namespace = typeof metadata['namespace'] === 'string' && metadata['namespace'] ? metadata['namespace'] : 'default';
  return name ? `${namespace}/${name}` : '';
}

function readProtocol(parent: RawRecord, path: string): Protocol {
  const protocol = readOptionalString(parent, 'protocol', path) ?? 'TCP';
  if (protocol !== 'TCP' && protocol !== 'UDP' && protocol !== 'SCTP') {
    throw new BadField('unknown-enum', `${path}.protocol`, `unknown protocol ${JSON.stringify(protocol)}`);
  }
  return protocol;
}

function readObjectName(metadata: RawRecord): string {
  return readRequiredString(metadata, 'name', 'metadata');
}

/** Manifests without a namespace land in "default", as kubectl apply would put them. */
function readObjectNamespace(metadata: RawRecord): string {
  return readOptionalString(metadata, 'namespace', 'metadata') || 'default';
}

function toNode(raw: RawRecord): Node {
  const metadata = readRecord(raw, 'metadata', '');
  return { name: readObjectName(metadata), labels: readStringMap(metadata, 'labels', 'metadata') };
}

function toNamespace(raw: RawRecord): Namespace {
  const metadata = readRecord(raw, 'metadata', '');
  return {
    name: readObjectName(metadata),
    labels: readStringMap(metadata, 'labels', 'metadata'),
    annotations: readStringMap(metadata, 'annotations', 'metadata'),
  };
}

const PORT_FIELDS = ['name', 'port', 'protocol'];

type PortCache<T> = WeakMap<readonly unknown[], readonly T[]>;

/**
 * A port list converted once per frozen raw list: sources keep one frozen list per distinct value
 * (read-fields.ts), so 30,000 slices name a handful, and a frozen list of frozen records always
 * converts the same way. A list that is refused is read (and refused) again each time.
 */
function portsOnce<T>(cache: PortCache<T>, list: readonly unknown[], convert: (list: readonly unknown[]) => readonly T[]): readonly T[] {
  // No ports (a remote Service, whose spec the source drops) converts as every empty list does.
  const key = list.length === 0 ? NO_PORTS : list;
  const known = cache.get(key);
  if (known) return known;
  const converted = convert(list);
  if (key === NO_PORTS || (Object.isFrozen(list) && list.every((item) => Object.isFrozen(item)))) cache.set(key, converted);
  return converted;
}

const NO_PORTS: readonly unknown[] = Object.freeze([]);

const servicePorts: PortCache<ServicePort> = new WeakMap();
const endpointPorts: PortCache<EndpointPort> = new WeakMap();

function toServicePorts(spec: RawRecord): readonly ServicePort[] {
  return portsOnce(servicePorts, readList(spec, 'ports', 'spec'), readServicePorts);
}

function readServicePorts(list: readonly unknown[]): readonly ServicePort[] {
  const seenNames = new Set<string>();
  const ports = list.map((item, i): ServicePort => {
    const path = `spec.ports[${i}]`;
    if (!isRecord(item)) throw new BadField('wrong-type', path, 'expected an object');
    const name = readOptionalString(item, 'name', path) ?? '';
    // Endpoint ports are matched to Service ports by name, so a repeated name is ambiguous.
    if (seenNames.has(name)) throw new BadField('duplicate-port', `${path}.name`, `duplicate port name ${JSON.stringify(name)}`);
    seenNames.add(name);
    const port = readOptionalPort(item, 'port', path);
    if (port === undefined) throw new BadField('missing-field', `${path}.port`, 'missing');
    return { name, port, protocol: readProtocol(item, path) };
  });
  return sharedPortList(ports, PORT_FIELDS);
}

interface Vips {
  readonly headless: boolean;
  readonly clusterIPs: readonly IpAddress[];
}

function toVips(spec: RawRecord, type: string): Vips {
  if (type === 'ExternalName') return { headless: false, clusterIPs: [] };
  const clusterIP = readOptionalString(spec, 'clusterIP', 'spec');
  const listed = readList(spec, 'clusterIPs', 'spec').map((item, i) => {
    if (typeof item !== 'string') throw new BadField('wrong-type', `spec.clusterIPs[${i}]`, 'expected a string');
    return item;
  });
  if (clusterIP && listed.length > 0 && listed[0] !== clusterIP) {
    const problem = `${JSON.stringify(clusterIP)} differs from spec.clusterIPs[0] ${JSON.stringify(listed[0])}`;
    throw new BadField('bad-ip', 'spec.clusterIP', problem);
  }
  const texts = listed.length > 0 ? listed : clusterIP ? [clusterIP] : [];
  if (texts[0] === 'None') return { headless: true, clusterIPs: [] };
  // No address yet (and every remote Service, whose spec the source drops): no set to make.
  if (texts.length === 0) return { headless: false, clusterIPs: [] };

  const seenFamilies = new Set<number>();
  const clusterIPs = texts.map((text, i) => {
    const path = listed.length > 0 ? `spec.clusterIPs[${i}]` : 'spec.clusterIP';
    const ip = parseIp(text);
    if (!ip) throw new BadField('bad-ip', path, `unparseable IP ${JSON.stringify(text)}`);
    if (seenFamilies.has(ip.family)) throw new BadField('bad-ip', path, `a second IPv${ip.family} address`);
    seenFamilies.add(ip.family);
    return ip;
  });
  return { headless: false, clusterIPs };
}

function toService(raw: RawRecord): Service {
  const metadata = readRecord(raw, 'metadata', '');
  const name = readObjectName(metadata);
  const namespace = readObjectNamespace(metadata);
  const spec = readRecord(raw, 'spec', '');
  const type = readOptionalString(spec, 'type', 'spec') || 'ClusterIP';
  const internalTrafficPolicy = readOptionalString(spec, 'internalTrafficPolicy', 'spec');
  const trafficDistribution = readOptionalString(spec, 'trafficDistribution', 'spec');
  const serviceProxyName = readStringMapValue(metadata, 'labels', 'metadata', SERVICE_PROXY_NAME_LABEL);
  const sessionAffinitySeconds = readSessionAffinity(spec);
  const key = serviceKey(namespace, name);
  const annotations = readStringMap(metadata, 'annotations', 'metadata');
  const { headless, clusterIPs } = toVips(spec, type);
  const ports = toServicePorts(spec);
  // The usual Service, with no optional field, as one literal: the spreads below make an object
  // each and cost more (a multi-cluster agent converts every cluster's Services on a full pass).
  if (serviceProxyName === undefined && !internalTrafficPolicy && !trafficDistribution && sessionAffinitySeconds === undefined) {
    return { key, namespace, name, type, annotations, headless, clusterIPs, ports };
  }
  return {
    key,
    namespace,
    name,
    type,
    annotations,
    ...(serviceProxyName !== undefined ? { serviceProxyName } : {}),
    headless,
    clusterIPs,
    ...(internalTrafficPolicy ? { internalTrafficPolicy } : {}),
    ...(trafficDistribution ? { trafficDistribution } : {}),
    ...(sessionAffinitySeconds !== undefined ? { sessionAffinitySeconds } : {}),
    ports,
  };
}

function toEndpointPorts(raw: RawRecord): readonly EndpointPort[] {
  return portsOnce(endpointPorts, readList(raw, 'ports', ''), readEndpointPorts);
}

function readEndpointPorts(list: readonly unknown[]): readonly EndpointPort[] {
  const ports = list.map((item, i): EndpointPort => {
    const path = `ports[${i}]`;
    if (!isRecord(item)) throw new BadField('wrong-type', path, 'expected an object');
    return {
      name: readOptionalString(item, 'name', path) ?? '',
      port: readOptionalPort(item, 'port', path) ?? null,
      protocol: readProtocol(item, path),
    };
  });
  return sharedPortList(ports, PORT_FIELDS);
}

function toTargetRef(item: RawRecord, path: string): ObjectReference | undefined {
  const ref = readRecord(item, 'targetRef', path);
  const kind = readOptionalString(ref, 'kind', `${path}.targetRef`);
  const name = readOptionalString(ref, 'name', `${path}.targetRef`);
  if (!kind || !name) return undefined;
  const namespace = readOptionalString(ref, 'namespace', `${path}.targetRef`);
  return { kind, name, ...(namespace ? { namespace } : {}) };
}

function readHintNames(hints: RawRecord, field: string, path: string): string[] {
  return readList(hints, field, path).map((item, i) => {
    const where = `${path}.${field}[${i}]`;
    if (!isRecord(item)) throw new BadField('wrong-type', where, 'expected an object');
    return readRequiredString(item, 'name', where);
  });
}

/** Kept only when the slice gives some: a hint list that is empty means no hint (kube-proxy). */
function toHints(item: RawRecord, path: string): EndpointHints | undefined {
  const raw = readRecord(item, 'hints', path);
  const forZones = readHintNames(raw, 'forZones', `${path}.hints`);
  const forNodes = readHintNames(raw, 'forNodes', `${path}.hints`);
  return forZones.length > 0 || forNodes.length > 0 ? { forZones, forNodes } : undefined;
}

function toAddresses(item: RawRecord, path: string, addressType: AddressType): string[] {
  return readList(item, 'addresses', path).map((address, i) => {
    const where = `${path}.addresses[${i}]`;
    if (typeof address !== 'string') throw new BadField('wrong-type', where, 'expected a string');
    if (addressType === 'FQDN') return address;
    const ip = parseIp(address);
    if (!ip) throw new BadField('bad-ip', where, `unparseable IP ${JSON.stringify(address)}`);
    if (`IPv${ip.family}` !== addressType) throw new BadField('bad-ip', where, `${address} is not an ${addressType} address`);
    return ip.address;
  });
}

const ENDPOINT_FIELDS: ReadonlySet<string> = new Set(['addresses', 'conditions', 'nodeName', 'zone', 'targetRef']);
const REF_FIELDS: ReadonlySet<string> = new Set(['kind', 'name', 'namespace']);

const nonEmptyOrAbsent = (value: unknown): boolean => value === undefined || (typeof value === 'string' && value !== '');

function hasOnly(record: RawRecord, fields: ReadonlySet<string>): boolean {
  for (const field in record) if (!fields.has(field)) return false;
  return true;
}

/**
 * True when a raw endpoint already is what the model would build from it: only the fields the
 * model reads, canonical addresses, shared conditions (as sources cache them, see read-fields.ts).
 * The model then holds the source's object instead of a copy, which halves what 100,000
 * endpoints cost. Anything else goes through the field-by-field path, which also names errors.
 */
function isModelShaped(item: unknown, addressType: AddressType): item is Endpoint {
  if (!isRecord(item) || !hasOnly(item, ENDPOINT_FIELDS) || !isSharedConditions(item['conditions'])) return false;
  if (!nonEmptyOrAbsent(item['nodeName']) || !nonEmptyOrAbsent(item['zone'])) return false;
  const ref = item['targetRef'];
  if (ref !== undefined) {
    if (!isRecord(ref) || !hasOnly(ref, REF_FIELDS)) return false;
    if (!nonEmptyOrAbsent(ref['namespace']) || !nonEmptyOrAbsent(ref['kind']) || !nonEmptyOrAbsent(ref['name'])) return false;
    if (ref['kind'] === undefined || ref['name'] === undefined) return false;
  }
  const addresses = item['addresses'];
  if (!Array.isArray(addresses)) return false;
  for (const address of addresses) {
    if (typeof address !== 'string') return false;
    if (addressType === 'FQDN') continue;
    if (!isCanonicalIp(address, addressType === 'IPv4' ? 4 : 6)) return false;
  }
  return true;
}

function toEndpoints(raw: RawRecord, addressType: AddressType): readonly Endpoint[] {
  const items = readList(raw, 'endpoints', '');
  if (items.every((item) => isModelShaped(item, addressType))) return items;
  return items.map((item, i) => {
    if (isModelShaped(item, addressType)) return item;
    const path = `endpoints[${i}]`;
    if (!isRecord(item)) throw new BadField('wrong-type', path, 'expected an object');
    const conditionsRaw = readRecord(item, 'conditions', path);
    const conditionsPath = `${path}.conditions`;
    const ready = readOptionalBoolean(conditionsRaw, 'ready', conditionsPath);
    const serving = readOptionalBoolean(conditionsRaw, 'serving', conditionsPath);
    const terminating = readOptionalBoolean(conditionsRaw, 'terminating', conditionsPath);
    const nodeName = readOptionalString(item, 'nodeName', path);
    const zone = readOptionalString(item, 'zone', path);
    const targetRef = toTargetRef(item, path);
    const hints = toHints(item, path);
    // Built field by field rather than by spreading: every endpoint then shares a few object
    // shapes, which keeps 100,000 of them compact.
    const endpoint: { -readonly [K in keyof Endpoint]: Endpoint[K] } = {
      addresses: toAddresses(item, path, addressType),
      conditions: sharedConditions(ready, serving, terminating),
    };
    if (nodeName) endpoint.nodeName = nodeName;
    if (zone) endpoint.zone = zone;
    if (targetRef) endpoint.targetRef = targetRef;
    if (hints) endpoint.hints = hints;
    return endpoint;
  });
}

function toEndpointSlice(raw: RawRecord): EndpointSlice {
  const metadata = readRecord(raw, 'metadata', '');
  const name = readObjectName(metadata);
  const namespace = readObjectNamespace(metadata);
  const serviceName = readStringMapValue(metadata, 'labels', 'metadata', SERVICE_NAME_LABEL);
  if (!serviceName) {
    throw new BadField('missing-field', `metadata.labels[${SERVICE_NAME_LABEL}]`, 'missing, so the slice belongs to no Service');
  }
  const addressType = readRequiredString(raw, 'addressType', '');
  if (addressType !== 'IPv4' && addressType !== 'IPv6' && addressType !== 'FQDN') {
    throw new BadField('unknown-enum', 'addressType', `unknown address type ${JSON.stringify(addressType)}`);
  }
  return {
    namespace,
    name,
    serviceKey: serviceKey(namespace, serviceName),
    addressType,
    ports: toEndpointPorts(raw),
    endpoints: toEndpoints(raw, addressType),
  };
}

/** Every watched kind has a converter; a kind added to kinds.ts without one does not compile. */
function toModel(kind: WatchedKind, raw: RawRecord): ModelObject {
  switch (kind) {
    case 'Node':
      return { kind, node: toNode(raw) };
    case 'Namespace':
      return { kind, namespace: toNamespace(raw) };
    case 'Service':
      return { kind, service: toService(raw) };
    case 'EndpointSlice':
      return { kind, endpointSlice: toEndpointSlice(raw) };
    case 'DestinationRule':
      return { kind, destinationRule: toDestinationRule(raw) };
  }
}

/**
 * Converts one parsed Kubernetes object (from YAML, JSON or an informer) into the model; with
 * `cluster`, an object read from that remote cluster (clusters.ts).
 * Never throws: a malformed object comes back as a rejection that says what is wrong.
 */
export function convertObject(raw: unknown, index = 0, cluster?: string): Conversion {
  if (cluster !== undefined) return convertRemote(cluster, raw, index);
  if (!isRecord(raw)) {
    return { status: 'rejected', rejection: { code: 'not-an-object', kind: '', name: '', index, message: 'not an object' } };
  }
  const kind = typeof raw['kind'] === 'string' ? raw['kind'] : '';
  const reject = (code: RejectionCode, message: string): Conversion => ({
    status: 'rejected',
    rejection: { code, kind, name: nameForReport(raw, kind), index, message },
  });
  if (!kind) return reject('missing-kind', 'missing kind');
  if (!isWatchedKind(kind)) return { status: 'ignored' };

  const apiVersion = raw['apiVersion'];
  const { apiVersions, group } = kindInfo(kind);
  // Tests and hand-written fixtures often leave apiVersion out; the kind alone is then trusted.
  if (apiVersion !== undefined && !apiVersions.includes(apiVersion as string)) {
    const sameGroup = typeof apiVersion === 'string' && apiGroup(apiVersion) === group;
    // Another API group that reuses the kind name (a Knative Service, say) is not ours to read.
    if (!sameGroup) return { status: 'ignored' };
    return reject(
      'unsupported-api-version',
      `unsupported apiVersion ${JSON.stringify(apiVersion)}; nearby reads ${apiVersions.join(', ')}`,
    );
  }

  try {
    return { status: 'accepted', object: deepFreeze(toModel(kind, raw)) };
  } catch (error) {
    if (error instanceof BadField) return reject(error.code, error.message);
    throw error;
  }
}

/** A remote cluster's object: converted as a local one, then tagged with its cluster (clusters.ts). */
function convertRemote(cluster: string, raw: unknown, index: number): Conversion {
  const conversion = convertObject(raw, index);
  switch (conversion.status) {
    case 'ignored':
      return conversion;
    case 'rejected': {
      const rejection = conversion.rejection;
      return { status: 'rejected', rejection: { ...rejection, name: clusterKey(cluster, rejection.name), cluster } };
    }
    case 'accepted': {
      const tagged = tagCluster(conversion.object, cluster);
      return tagged ? { status: 'accepted', object: deepFreeze(tagged) } : { status: 'ignored' };
    }
  }
}
