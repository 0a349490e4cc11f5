/*
 * What users asked for: the objects applied with `lab up`/`lab apply`, minus those deleted, and
 * the node labels. Every change is checked in full before any of it is made, so a bad manifest
 * in a batch changes nothing. Messages follow kubectl's ("deployment.apps/x created").
 */
import { LabError } from './errors.js';
import { ServiceAddresses } from './ipam.js';
import { SERVICE_SUBNET } from './kind-config.js';
import { rejection, type Applied } from './objects.js';
import { podTemplateHash } from './pod-names.js';

type Of<K extends Applied['kind']> = Extract<Applied, { kind: K }>;

export interface ServiceEntry {
  readonly applied: Of<'Service'>;
  readonly clusterIP: string;
}

export interface DeploymentEntry {
  readonly applied: Of<'Deployment'>;
  readonly hash: string;
}

export interface LabelledNode {
  labels: Record<string, string>;
}

export const BUILT_IN_NAMESPACES = ['default', 'kube-node-lease', 'kube-public', 'kube-system'];

const KIND_ALIASES: Readonly<Record<string, 'Namespace' | 'Service' | 'Deployment' | 'Pod'>> = {
  namespace: 'Namespace',
  namespaces: 'Namespace',
  ns: 'Namespace',
  service: 'Service',
  services: 'Service',
  svc: 'Service',
  deployment: 'Deployment',
  deployments: 'Deployment',
  deploy: 'Deployment',
  'deployment.apps': 'Deployment',
  'deployments.apps': 'Deployment',
  pod: 'Pod',
  pods: 'Pod',
  po: 'Pod',
};

export function deletableKind(text: string): 'Namespace' | 'Service' | 'Deployment' | 'Pod' {
  const kind = KIND_ALIASES[text.toLowerCase()];
  if (!kind) throw new LabError('usage', `the lab cannot delete ${JSON.stringify(text)}: use deployment, pod, service or namespace`);
  return kind;
}

/** kubectl's resource names in messages. */
export function resourceName(kind: string): string {
  return kind === 'Deployment' ? 'deployment.apps' : kind.toLowerCase();
}

const key = (namespace: string, name: string): string => `${namespace}/${name}`;
const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

export class AppliedObjects {
  readonly namespaces = new Map<string, Record<string, unknown> | undefined>(BUILT_IN_NAMESPACES.map((n) => [n, undefined]));
  readonly services = new Map<string, ServiceEntry>();
  readonly deployments = new Map<string, DeploymentEntry>();
  readonly pods = new Map<string, Of<'Pod'>>();
  private readonly addresses: ServiceAddresses;

  constructor(
    private readonly nodes: ReadonlyMap<string, LabelledNode>,
    serviceSubnet: string = SERVICE_SUBNET,
  ) {
    this.addresses = new ServiceAddresses(serviceSubnet);
  }

  /** Checks every object, then applies them all: namespaces and nodes first, as they are needed by the rest. */
  apply(objects: readonly Applied[]): string[] {
    const newNamespaces = new Set(objects.flatMap((o) => (o.kind === 'Namespace' ? [o.name] : [])));
    const requestedIps = new Set<string>();
    for (const o of objects) {
      if ('namespace' in o && !this.namespaces.has(o.namespace) && !newNamespaces.has(o.namespace)) {
        throw new LabError(
          'not-found',
          rejection(o.kind, o.namespace, o.name, 'metadata.namespace', `namespaces "${o.namespace}" not found`),
        );
      }
      if (o.kind === 'Node' && !this.nodes.has(o.name)) {
        throw new LabError(
          'not-found',
          rejection(
            'Node',
            undefined,
            o.name,
            'metadata.name',
            `nodes "${o.name}" not found; the lab's nodes are ${[...this.nodes.keys()].join(', ')}`,
          ),
        );
      }
      if (o.kind === 'Service') this.checkService(o, requestedIps);
      if (o.kind === 'Pod') this.checkPod(o);
    }
    const order: Array<Applied['kind']> = ['Namespace', 'Node', 'Service', 'Deployment', 'Pod', 'Ignored'];
    const sorted = [...objects].sort((a, b) => order.indexOf(a.kind) - order.indexOf(b.kind));
    return sorted.map((o) => this.commit(o));
  }

  private checkService(o: Of<'Service'>, requested: Set<string>): void {
    const existing = this.services.get(key(o.namespace, o.name));
    const bad = (problem: string): LabError =>
      new LabError('invalid', rejection('Service', o.namespace, o.name, 'spec.clusterIP', problem));
    if (existing) {
      if (o.clusterIP !== undefined && o.clusterIP !== existing.clusterIP) throw bad(`field is immutable (${existing.clusterIP})`);
      return;
    }
    if (o.clusterIP === undefined || o.clusterIP === 'None') return;
    // Checked here, not when allocating, so that a bad address in a batch changes nothing.
    const problem = requested.has(o.clusterIP) ? `${o.clusterIP} is already allocated` : this.addresses.problemWith(o.clusterIP);
    if (problem) throw bad(problem);
    requested.add(o.clusterIP);
  }

  private checkPod(o: Of<'Pod'>): void {
    const existing = this.pods.get(key(o.namespace, o.name));
    if (existing && !same(existing.raw['spec'], o.raw['spec'])) {
      throw new LabError(
        'invalid',
        rejection('Pod', o.namespace, o.name, 'spec', 'pod updates may not change fields other than labels ') +
          "(the lab does not update a running pod's spec); delete it first",
      );
    }
  }

  private commit(o: Applied): string {
    switch (o.kind) {
      case 'Namespace': {
        const had = this.namespaces.has(o.name);
        const changed = !same(this.namespaces.get(o.name), o.raw);
        this.namespaces.set(o.name, o.raw);
        return `namespace/${o.name} ${!had ? 'created' : changed ? 'configured' : 'unchanged'}`;
      }
      case 'Node': {
        const node = this.nodes.get(o.name);
        if (!node) return `node/${o.name} unchanged`;
        const next = { ...node.labels, ...o.labels };
        const changed = !same(next, node.labels);
        node.labels = next;
        return `node/${o.name} ${changed ? 'configured' : 'unchanged'}`;
      }
      case 'Service': {
        const k = key(o.namespace, o.name);
        const existing = this.services.get(k);
        if (existing) {
          this.services.set(k, { applied: o, clusterIP: existing.clusterIP });
          return `service/${o.name} ${same(existing.applied.raw, o.raw) ? 'unchanged' : 'configured'}`;
        }
        const clusterIP = o.clusterIP === 'None' ? 'None' : this.addresses.allocate(o.clusterIP);
        this.services.set(k, { applied: o, clusterIP });
        return `service/${o.name} created`;
      }
      case 'Deployment': {
        const k = key(o.namespace, o.name);
        const existing = this.deployments.get(k);
        this.deployments.set(k, { applied: o, hash: podTemplateHash(o.template.raw) });
        return `deployment.apps/${o.name} ${!existing ? 'created' : same(existing.applied.raw, o.raw) ? 'unchanged' : 'configured'}`;
      }
      case 'Pod': {
        const k = key(o.namespace, o.name);
        const existing = this.pods.get(k);
        this.pods.set(k, o);
        return `pod/${o.name} ${!existing ? 'created' : same(existing.raw, o.raw) ? 'unchanged' : 'configured'}`;
      }
      case 'Ignored':
        return `${o.kindName.toLowerCase()}/${o.name} ignored (the lab does not simulate ${o.kindName})`;
    }
  }

  /** Removes a Namespace (with everything in it), Service or Deployment. Pods are the supervisor's. */
  delete(kind: 'Namespace' | 'Service' | 'Deployment', name: string, namespace: string): string {
    if (kind === 'Namespace') {
      if (BUILT_IN_NAMESPACES.includes(name))
        throw new LabError('invalid', `namespaces "${name}" is forbidden: this namespace may not be deleted`);
      if (!this.namespaces.has(name)) throw new LabError('not-found', `namespaces "${name}" not found`);
      for (const map of [this.services, this.deployments, this.pods] as const) {
        for (const k of [...map.keys()]) if (k.startsWith(`${name}/`)) this.remove(map, k);
      }
      this.namespaces.delete(name);
      return `namespace "${name}" deleted`;
    }
    const map = kind === 'Service' ? this.services : this.deployments;
    const k = key(namespace, name);
    if (!map.has(k))
      throw new LabError(
        'not-found',
        `${kind === 'Service' ? 'services' : 'deployments.apps'} "${name}" not found in namespace "${namespace}"`,
      );
    this.remove(map, k);
    return `${resourceName(kind)} "${name}" deleted`;
  }

  private remove(map: Map<string, unknown>, k: string): void {
    const service = this.services.get(k);
    if (map === this.services && service && service.clusterIP !== 'None') this.addresses.release(service.clusterIP);
    map.delete(k);
  }

  /** `kubectl label node NAME k=v k2-`; without overwrite, changing an existing value is an error. */
  label(nodeName: string, changes: Readonly<Record<string, string | null>>, overwrite: boolean): string {
    const node = this.nodes.get(nodeName);
    if (!node) throw new LabError('not-found', `nodes "${nodeName}" not found`);
    for (const [k, v] of Object.entries(changes)) {
      const current = node.labels[k];
      if (v !== null && current !== undefined && current !== v && !overwrite) {
        throw new LabError('invalid', `'${k}' already has a value (${current}), and --overwrite is false`);
      }
    }
    // A null change removes the label; the others set it, new keys after the existing ones.
    const next = Object.fromEntries(
      Object.entries({ ...node.labels, ...changes }).filter((entry): entry is [string, string] => entry[1] !== null),
    );
    const changed = !same(next, node.labels);
    node.labels = next;
    return `node/${nodeName} ${changed ? 'labeled' : 'not labeled'}`;
  }
}
