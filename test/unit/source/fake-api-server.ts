import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A stand-in for the parts of the Kubernetes API server a list+watch informer uses: list
 * responses with a resourceVersion, and newline-delimited JSON watch streams that replay events
 * after the requested resourceVersion. Tests script the awkward parts: compaction (410 Gone),
 * dropped connections, bookmarks, failing lists.
 */

interface ResourceType {
  readonly kind: string;
  readonly apiVersion: string;
  /** Served only while a test says the CRD is installed (serveGroup). */
  readonly custom?: true;
}

export const RESOURCES = {
  '/api/v1/nodes': { kind: 'Node', apiVersion: 'v1' },
  '/api/v1/services': { kind: 'Service', apiVersion: 'v1' },
  '/apis/discovery.k8s.io/v1/endpointslices': { kind: 'EndpointSlice', apiVersion: 'discovery.k8s.io/v1' },
  '/api/v1/namespaces': { kind: 'Namespace', apiVersion: 'v1' },
  '/apis/networking.istio.io/v1/destinationrules': { kind: 'DestinationRule', apiVersion: 'networking.istio.io/v1', custom: true },
  '/apis/networking.istio.io/v1beta1/destinationrules': {
    kind: 'DestinationRule',
    apiVersion: 'networking.istio.io/v1beta1',
    custom: true,
  },
} as const satisfies Record<string, ResourceType>;

export type ResourcePath = keyof typeof RESOURCES;

export interface ApiObject {
  metadata: { name: string; namespace?: string; resourceVersion?: string; [k: string]: unknown };
  [k: string]: unknown;
}

type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

interface LoggedEvent {
  readonly rv: number;
  readonly type: EventType;
  readonly object: ApiObject;
}

interface OpenWatch {
  readonly path: ResourcePath;
  readonly res: ServerResponse;
}

export interface RecordedRequest {
  readonly path: string;
  readonly query: URLSearchParams;
  readonly watch: boolean;
}

function keyOf(object: ApiObject): string {
  return `${object.metadata.namespace ?? ''}/${object.metadata.name}`;
}

function isResourcePath(path: string): path is ResourcePath {
  return Object.hasOwn(RESOURCES, path);
}

export class FakeApiServer {
  readonly requests: RecordedRequest[] = [];
  private server: Server | undefined;
  private rv = 1000;
  private readonly stores = new Map<ResourcePath, Map<string, ApiObject>>();
  private readonly logs = new Map<ResourcePath, LoggedEvent[]>();
  /** Watches from a resourceVersion older than this get 410 Gone. */
  private readonly compactedAt = new Map<ResourcePath, number>();
  private readonly failingLists = new Map<ResourcePath, number>();
  private readonly watches = new Set<OpenWatch>();
  /** Watch requests answered only on releaseWatches(): a stream still connecting. */
  private held: Array<() => void> | undefined;
  /** Installed CRD groups and the versions each serves, as discovery (GET /apis) lists them. */
  private readonly customGroups = new Map<string, readonly string[]>();

  constructor() {
    for (const path of Object.keys(RESOURCES) as ResourcePath[]) {
      this.stores.set(path, new Map());
      this.logs.set(path, []);
      this.compactedAt.set(path, 0);
    }
  }

  async listen(port = 0): Promise<string> {
    const server = createServer((req, res) => this.handle(req, res));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    for (const watch of this.watches) watch.res.destroy();
    this.watches.clear();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  get port(): number {
    const address = this.server?.address();
    if (!address || typeof address === 'string') throw new Error('fake API server: not listening');
    return address.port;
  }

  get resourceVersion(): string {
    return String(this.rv);
  }

  /** Creates or replaces an object and tells open watches. */
  apply(path: ResourcePath, object: ApiObject): void {
    const store = this.store(path);
    const type: EventType = store.has(keyOf(object)) ? 'MODIFIED' : 'ADDED';
    const stored = this.stamp(object);
    store.set(keyOf(stored), stored);
    this.record(path, type, stored);
  }

  delete(path: ResourcePath, name: string, namespace?: string): void {
    const store = this.store(path);
    const key = `${namespace ?? ''}/${name}`;
    const existing = store.get(key);
    if (!existing) throw new Error(`fake API server: no ${key} under ${path}`);
    store.delete(key);
    this.record(path, 'DELETED', this.stamp(existing));
  }

  /** Changes state without any watch event: the events a compacted history no longer has. */
  applyUnrecorded(path: ResourcePath, object: ApiObject): void {
    const stored = this.stamp(object);
    this.store(path).set(keyOf(stored), stored);
  }

  deleteUnrecorded(path: ResourcePath, name: string, namespace?: string): void {
    this.rv += 1;
    this.store(path).delete(`${namespace ?? ''}/${name}`);
  }

  /** Compacts history: open watches get an ERROR 410 and are closed, as the API server does. */
  expire(path: ResourcePath): void {
    this.compactedAt.set(path, this.rv);
    for (const watch of this.openWatches(path)) {
      this.send(watch.res, { type: 'ERROR', object: gone(this.rv) });
      watch.res.end();
      this.watches.delete(watch);
    }
  }

  /** Cuts open watch connections without a word, like a dying load balancer. */
  dropWatches(path?: ResourcePath): number {
    const dropped = this.openWatches(path);
    for (const watch of dropped) {
      watch.res.socket?.destroy();
      this.watches.delete(watch);
    }
    return dropped.length;
  }

  /** Advances the resourceVersion with no object change and sends a BOOKMARK to open watches. */
  bookmark(path: ResourcePath): string {
    this.rv += 1;
    const { kind, apiVersion } = RESOURCES[path];
    for (const watch of this.openWatches(path)) {
      this.send(watch.res, { type: 'BOOKMARK', object: { kind, apiVersion, metadata: { resourceVersion: this.resourceVersion } } });
    }
    return this.resourceVersion;
  }

  /** Installs a CRD: discovery lists the group and its resource paths answer. */
  serveGroup(group: string, versions: readonly string[]): void {
    this.customGroups.set(group, versions);
  }

  /** Uninstalls a CRD: its paths answer 404 and its open watches close, as the API server does. */
  stopServingGroup(group: string): void {
    this.customGroups.delete(group);
    for (const watch of this.openWatches()) {
      if (!this.served(watch.path)) {
        watch.res.end();
        this.watches.delete(watch);
      }
    }
  }

  /** The next `count` lists of this path answer 500. */
  failLists(path: ResourcePath, count: number): void {
    this.failingLists.set(path, count);
  }

  /** From now on, watch requests wait unanswered until releaseWatches(). */
  holdWatches(): void {
    this.held ??= [];
  }

  /** Answers the held watch requests and stops holding; returns how many were held. */
  releaseWatches(): number {
    const held = this.held ?? [];
    this.held = undefined;
    for (const answer of held) answer();
    return held.length;
  }

  openWatches(path?: ResourcePath): OpenWatch[] {
    return [...this.watches].filter((watch) => path === undefined || watch.path === path);
  }

  requestsFor(path: ResourcePath, kind: 'list' | 'watch'): RecordedRequest[] {
    return this.requests.filter((r) => r.path === path && r.watch === (kind === 'watch'));
  }

  private store(path: ResourcePath): Map<string, ApiObject> {
    const store = this.stores.get(path);
    if (!store) throw new Error(`fake API server: unknown path ${path}`);
    return store;
  }

  private stamp(object: ApiObject): ApiObject {
    this.rv += 1;
    return structuredClone({ ...object, metadata: { ...object.metadata, resourceVersion: this.resourceVersion } });
  }

  private record(path: ResourcePath, type: EventType, object: ApiObject): void {
    const event = { rv: this.rv, type, object };
    this.logs.get(path)?.push(event);
    for (const watch of this.openWatches(path)) this.sendEvent(watch.res, path, event);
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const watch = url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1';
    this.requests.push({ path: url.pathname, query: url.searchParams, watch });
    if (req.method === 'GET' && url.pathname === '/apis') {
      respondJson(res, 200, this.apiGroupList());
      return;
    }
    if (req.method !== 'GET' || !isResourcePath(url.pathname) || !this.served(url.pathname)) {
      respondJson(res, 404, status(404, 'NotFound', `no route for ${req.method} ${url.pathname}`));
      return;
    }
    const path = url.pathname;
    if (watch && this.held) this.held.push(() => this.serveWatch(path, url.searchParams, res));
    else if (watch) this.serveWatch(url.pathname, url.searchParams, res);
    else this.serveList(url.pathname, res);
  }

  private served(path: ResourcePath): boolean {
    const type: ResourceType = RESOURCES[path];
    if (!type.custom) return true;
    const [group, version] = type.apiVersion.split('/');
    return this.customGroups.get(group ?? '')?.includes(version ?? '') ?? false;
  }

  private apiGroupList(): object {
    const group = (name: string, versions: readonly string[]): object => ({
      name,
      versions: versions.map((version) => ({ groupVersion: `${name}/${version}`, version })),
      preferredVersion: { groupVersion: `${name}/${versions[0]}`, version: versions[0] },
    });
    const groups = [group('discovery.k8s.io', ['v1']), ...[...this.customGroups].map(([name, versions]) => group(name, versions))];
    return { kind: 'APIGroupList', apiVersion: 'v1', groups };
  }

  private serveList(path: ResourcePath, res: ServerResponse): void {
    const failures = this.failingLists.get(path) ?? 0;
    if (failures > 0) {
      this.failingLists.set(path, failures - 1);
      respondJson(res, 500, status(500, 'InternalError', 'etcdserver: request timed out'));
      return;
    }
    const { kind, apiVersion } = RESOURCES[path];
    // Like the real server, list items carry no kind or apiVersion.
    const items = [...this.store(path).values()].map((object) => {
      const { kind: _kind, apiVersion: _apiVersion, ...rest } = object;
      return rest;
    });
    respondJson(res, 200, { kind: `${kind}List`, apiVersion, metadata: { resourceVersion: this.resourceVersion }, items });
  }

  private serveWatch(path: ResourcePath, query: URLSearchParams, res: ServerResponse): void {
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    res.flushHeaders();
    const from = Number(query.get('resourceVersion') ?? '0');
    if (from < (this.compactedAt.get(path) ?? 0)) {
      this.send(res, { type: 'ERROR', object: gone(from) });
      res.end();
      return;
    }
    for (const event of this.logs.get(path) ?? []) {
      if (event.rv > from) this.sendEvent(res, path, event);
    }
    const open = { path, res };
    this.watches.add(open);
    res.on('close', () => this.watches.delete(open));
  }

  private sendEvent(res: ServerResponse, path: ResourcePath, event: LoggedEvent): void {
    const { kind, apiVersion } = RESOURCES[path];
    this.send(res, { type: event.type, object: { apiVersion, kind, ...event.object } });
  }

  private send(res: ServerResponse, event: unknown): void {
    res.write(`${JSON.stringify(event)}\n`);
  }
}

function status(code: number, reason: string, message: string): object {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

function gone(rv: number): object {
  return status(410, 'Expired', `too old resource version: ${rv}`);
}

function respondJson(res: ServerResponse, code: number, body: unknown): void {
  res.writeHead(code, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
