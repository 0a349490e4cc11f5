/*
 * The agent's live snapshot. A full rebuild reads every object; a change list updates just the
 * objects it names. Either way the store reports which Services, Nodes and Namespaces changed,
 * so the reconciler can re-plan only what depends on them, and keeps the index it needs to turn
 * a Node change into the Services with endpoints on that Node.
 *
 * Conversions are cached per raw object: sources hand back the same object while it is
 * unchanged, so a rebuild only re-reads what is new.
 */
import { convertObject, type Conversion, type ModelObject } from './from-k8s.js';
import { buildSnapshot } from './snapshot.js';
import { SliceIndex } from './slice-index.js';
import { compareSlices } from './slice-order.js';
import { clusterKey, isRemoteService, type RemoteCopies, sameService, withCopy, withoutCopy } from './clusters.js';
import type { DestinationRule } from './destination-rule-types.js';
import type { Endpoint, EndpointSlice, Namespace, Node, Rejection, Service, Snapshot } from './types.js';

/** What a source says changed: the object now, or undefined once deleted. */
export interface RawChange {
  readonly kind: string;
  /** "namespace/name", or "name" for cluster-scoped kinds. */
  readonly name: string;
  /**
   * The remote cluster the object was read from; absent for the local cluster. Remote Namespaces
   * and DestinationRules are ignored.
   */
  readonly cluster?: string;
  readonly object: unknown;
}

export interface SnapshotDelta {
  /** Services ("namespace/name") whose Service object or EndpointSlices changed. */
  readonly services: ReadonlySet<string>;
  readonly nodes: ReadonlySet<string>;
  readonly namespaces: ReadonlySet<string>;
}

interface MutableDelta {
  services: Set<string>;
  nodes: Set<string>;
  namespaces: Set<string>;
}

const IGNORED: Conversion = Object.freeze({ status: 'ignored' });

export class SnapshotStore {
  private readonly nodes = new Map<string, Node>();
  /** Per key, the local Service if any, else one for a remote cluster's (see sameService()). */
  private readonly services = new Map<string, Service>();
  /** The remote clusters that have each Service (see RemoteCopies). */
  private readonly remoteServices = new Map<string, RemoteCopies>();
  private readonly namespaces = new Map<string, Namespace>();
  /**
   * Replaced, never changed in place, whenever a rule changes: the planner indexes rules per map
   * (by identity), and rules are few and rarely change.
   */
  private destinationRules: ReadonlyMap<string, DestinationRule> = new Map();
  private slicesByName = new SliceIndex();
  private readonly slicesByService = new Map<string, readonly EndpointSlice[]>();
  /** Small and rebuilt whole on change, so a plain array (a Set per Service costs far more). */
  private readonly nodesOfService = new Map<string, readonly string[]>();
  private readonly servicesOfNode = new Map<string, Set<string>>();
  private readonly rejections = new Map<string, Rejection>();
  /**
   * Each raw object's model object, or null when its kind is not read; per cluster (undefined:
   * local), since the same raw object could be handed in as either. The model object rather than
   * its Conversion: a Conversion made again on each use is young garbage, while one kept per
   * cached object was ~1.4 MiB at 45,000 objects in three clusters.
   */
  private readonly conversions = new Map<string | undefined, WeakMap<object, ModelObject | null>>();

  /** A view over the live maps: valid until the next rebuild or apply. */
  readonly snapshot: Snapshot = this.liveView();

  private liveView(): Snapshot {
    const rules = (): ReadonlyMap<string, DestinationRule> => this.destinationRules;
    return {
      nodes: this.nodes,
      services: this.services,
      endpointSlices: this.slicesByService,
      namespaces: this.namespaces,
      // A getter, since the map is replaced rather than changed (see the field).
      get destinationRules() {
        return rules();
      },
    };
  }

  /** Objects that could not be read, by kind and name. */
  rejected(): Rejection[] {
    return [...this.rejections.values()].sort((a, b) => a.index - b.index);
  }

  /** Services with an endpoint that names this node. */
  servicesOnNode(node: string): ReadonlySet<string> {
    return this.servicesOfNode.get(node) ?? new Set();
  }

  servicesInNamespace(namespace: string): string[] {
    return [...this.services.values()].filter((s) => s.namespace === namespace).map((s) => s.key);
  }

  /**
   * Replaces everything with `objects`. The delta names what differs from before, compared by
   * model object: unchanged raw objects convert to the very same model objects.
   */
  rebuild(objects: Iterable<unknown>): SnapshotDelta {
    const delta: MutableDelta = { services: new Set(), nodes: new Set(), namespaces: new Set() };
    const { snapshot, rejected, remoteServices, slices } = buildSnapshot(objects, (raw, index, cluster) =>
      this.convert(raw, index, cluster),
    );

    replaceMap(this.nodes, snapshot.nodes, delta.nodes);
    replaceMap(this.namespaces, snapshot.namespaces, delta.namespaces);
    replaceMap(this.services, this.keepRemoteOnly(snapshot.services), delta.services);
    this.remoteServices.clear();
    remoteServices.forEach((copies, key) => this.remoteServices.set(key, copies));
    const rules = new Map(this.destinationRules);
    const rulesChanged = new Set<string>();
    replaceMap(rules, snapshot.destinationRules, rulesChanged);
    if (rulesChanged.size > 0) {
      this.destinationRules = rules;
      this.touchEveryService(delta);
    }
    this.slicesByName.forEach((old) => {
      const next = slices.get(old.cluster, old.namespace, old.name);
      if (next === old) return;
      delta.services.add(old.serviceKey);
      if (next) delta.services.add(next.serviceKey);
    });
    slices.forEach((next) => {
      if (!this.slicesByName.get(next.cluster, next.namespace, next.name)) delta.services.add(next.serviceKey);
    });
    this.slicesByName = slices;
    this.slicesByService.clear();
    snapshot.endpointSlices.forEach((group, key) => this.slicesByService.set(key, group));

    this.nodesOfService.clear();
    this.servicesOfNode.clear();
    // The node's set says whether the Service already named it: no set of nodes per Service.
    // Callbacks, not for-of: run once per full pass over every endpoint, for-of's iterators were
    // several MiB of garbage in a heap profile of the first pass (code run once is seldom optimised).
    this.slicesByService.forEach((group, key) => {
      let nodes: string[] | undefined;
      const visit = (endpoint: Endpoint): void => {
        const node = endpoint.nodeName;
        if (!node) return;
        let services = this.servicesOfNode.get(node);
        if (!services) this.servicesOfNode.set(node, (services = new Set()));
        if (services.has(key)) return;
        services.add(key);
        (nodes ??= []).push(node);
      };
      group.forEach((slice) => slice.endpoints.forEach(visit));
      // Kept for as long as the Service: copied to its length, not the room push() left.
      if (nodes) this.nodesOfService.set(key, nodes.slice());
    });
    this.rejections.clear();
    for (const r of rejected) this.rejections.set(`${r.kind}|${r.name}|${r.name ? '' : r.index}`, r);
    return delta;
  }

  /** Applies changes one object at a time; a rejected object counts as absent. */
  apply(changes: readonly RawChange[]): SnapshotDelta {
    const delta: MutableDelta = { services: new Set(), nodes: new Set(), namespaces: new Set() };
    for (const change of changes) {
      const cluster = change.cluster;
      const conversion = change.object === undefined ? undefined : this.convert(change.object, 0, cluster);
      const name = clusterKey(cluster, change.name);
      const rejectionKey = `${change.kind}|${name}|`;
      if (conversion?.status === 'rejected') this.rejections.set(rejectionKey, conversion.rejection);
      else this.rejections.delete(rejectionKey);
      const model = conversion?.status === 'accepted' ? conversion.object : undefined;
      switch (change.kind) {
        case 'Node':
          if (setOrDelete(this.nodes, name, model?.kind === 'Node' ? model.node : undefined)) delta.nodes.add(name);
          break;
        case 'Namespace':
          if (cluster !== undefined) break;
          if (setOrDelete(this.namespaces, change.name, model?.kind === 'Namespace' ? model.namespace : undefined)) {
            delta.namespaces.add(change.name);
          }
          break;
        case 'Service':
          this.setService(change.name, cluster, model?.kind === 'Service' ? model.service : undefined, delta);
          break;
        case 'EndpointSlice':
          this.setSlice(cluster, change.name, model?.kind === 'EndpointSlice' ? model.endpointSlice : undefined, delta);
          break;
        case 'DestinationRule': {
          if (cluster !== undefined) break;
          const rules = new Map(this.destinationRules);
          if (setOrDelete(rules, change.name, model?.kind === 'DestinationRule' ? model.destinationRule : undefined)) {
            this.destinationRules = rules;
            this.touchEveryService(delta);
          }
          break;
        }
      }
    }
    return delta;
  }

  /**
   * A DestinationRule may name Services by wildcard and from the root namespace, so working out
   * which Services one affects is the planner's host matching; rules change rarely, so every
   * Service is re-planned instead.
   */
  private touchEveryService(delta: MutableDelta): void {
    for (const key of this.services.keys()) delta.services.add(key);
  }

  private convert(raw: unknown, index: number, cluster: string | undefined): Conversion {
    if (typeof raw !== 'object' || raw === null) return convertObject(raw, index, cluster);
    let conversions = this.conversions.get(cluster);
    if (!conversions) this.conversions.set(cluster, (conversions = new WeakMap()));
    const cached = conversions.get(raw);
    if (cached === null) return IGNORED;
    if (cached) return { status: 'accepted', object: cached };
    const conversion = convertObject(raw, index, cluster);
    // A rejection carries its input position, which differs between calls, so it is not kept. A
    // remote Service leaves only a note of its cluster (see RemoteCopies); caching its conversion
    // would keep an object per Service and cluster alive for as long as the source does.
    if (conversion.status === 'ignored') conversions.set(raw, null);
    else if (conversion.status === 'accepted' && !isRemoteService(conversion.object)) conversions.set(raw, conversion.object);
    return conversion;
  }

  /**
   * `services`, except that a Service that exists only remotely keeps the object it had when it
   * still names the same cluster: a rebuild makes a new one, which would count as a change.
   */
  private keepRemoteOnly(services: ReadonlyMap<string, Service>): ReadonlyMap<string, Service> {
    let kept: Map<string, Service> | undefined;
    services.forEach((service, key) => {
      const before = this.services.get(key);
      if (service.cluster === undefined || before === service || before?.cluster !== service.cluster) return;
      (kept ??= new Map(services)).set(key, before);
    });
    return kept ?? services;
  }

  private setService(key: string, cluster: string | undefined, service: Service | undefined, delta: MutableDelta): void {
    const current = this.services.get(key);
    let local = current?.cluster === undefined ? current : undefined;
    if (cluster === undefined) local = service;
    else {
      const copies = this.remoteServices.get(key);
      setOrDelete(this.remoteServices, key, service ? withCopy(copies, cluster) : withoutCopy(copies, cluster));
    }
    if (setOrDelete(this.services, key, sameService(key, local, this.remoteServices.get(key), current))) delta.services.add(key);
  }

  /** `name` is the change's "namespace/name", as a source names a slice (the model's default namespace when it has none). */
  private setSlice(cluster: string | undefined, name: string, slice: EndpointSlice | undefined, delta: MutableDelta): void {
    const slash = name.indexOf('/');
    const old = this.slicesByName.get(cluster, slash < 0 ? 'default' : name.slice(0, slash), name.slice(slash + 1));
    if (old === slice) return;
    if (old) {
      this.slicesByName.delete(old);
      const rest = (this.slicesByService.get(old.serviceKey) ?? []).filter((s) => s !== old);
      if (rest.length > 0) this.slicesByService.set(old.serviceKey, rest);
      else this.slicesByService.delete(old.serviceKey);
      delta.services.add(old.serviceKey);
    }
    if (slice) {
      this.slicesByName.set(slice);
      const group = [...(this.slicesByService.get(slice.serviceKey) ?? []), slice].sort(compareSlices);
      this.slicesByService.set(slice.serviceKey, group);
      delta.services.add(slice.serviceKey);
    }
    if (old) this.reindex(old.serviceKey);
    if (slice && slice.serviceKey !== old?.serviceKey) this.reindex(slice.serviceKey);
  }

  /** Recomputes which nodes a Service's endpoints name. */
  private reindex(serviceKey: string): void {
    const next = nodesNamedBy(this.slicesByService.get(serviceKey) ?? []);
    const before = new Set(this.nodesOfService.get(serviceKey));
    for (const node of before) {
      if (next.has(node)) continue;
      const services = this.servicesOfNode.get(node);
      services?.delete(serviceKey);
      if (services?.size === 0) this.servicesOfNode.delete(node);
    }
    for (const node of next) {
      if (before.has(node)) continue;
      let services = this.servicesOfNode.get(node);
      if (!services) this.servicesOfNode.set(node, (services = new Set()));
      services.add(serviceKey);
    }
    if (next.size > 0) this.nodesOfService.set(serviceKey, [...next]);
    else this.nodesOfService.delete(serviceKey);
  }
}

function nodesNamedBy(slices: readonly EndpointSlice[]): Set<string> {
  const nodes = new Set<string>();
  for (const slice of slices) for (const endpoint of slice.endpoints) if (endpoint.nodeName) nodes.add(endpoint.nodeName);
  return nodes;
}

/** Sets or deletes; true when the stored value changed. */
function setOrDelete<T>(map: Map<string, T>, key: string, value: T | undefined): boolean {
  const before = map.get(key);
  if (before === value) return false;
  if (value === undefined) map.delete(key);
  else map.set(key, value);
  return true;
}

/** Makes `target` equal to `next`, adding to `changed` every key whose value is not identical. */
function replaceMap<T>(target: Map<string, T>, next: ReadonlyMap<string, T>, changed: Set<string>): void {
  // Callbacks, not for-of over entries: a pair array per entry (15,000 here per full pass).
  target.forEach((_, key) => {
    if (!next.has(key)) changed.add(key);
  });
  next.forEach((value, key) => {
    if (target.get(key) !== value) changed.add(key);
  });
  target.clear();
  next.forEach((value, key) => target.set(key, value));
}
