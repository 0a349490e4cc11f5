import { createServer } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { KubernetesSource, type KubernetesSourceOptions, type SourceLog } from '../../../pkg/source/index.js';
import { FakeApiServer, type ApiObject, type ResourcePath } from './fake-api-server.js';
import { sleep, waitFor } from './wait-for.js';
import { ifSetUp } from '../../fixtures/if-set-up.js';

const NODES: ResourcePath = '/api/v1/nodes';
const SERVICES: ResourcePath = '/api/v1/services';
const SLICES: ResourcePath = '/apis/discovery.k8s.io/v1/endpointslices';
const NAMESPACES: ResourcePath = '/api/v1/namespaces';
const RULES_V1: ResourcePath = '/apis/networking.istio.io/v1/destinationrules';
const RULES_V1BETA1: ResourcePath = '/apis/networking.istio.io/v1beta1/destinationrules';
const ISTIO = 'networking.istio.io';

type Raw = ApiObject & { kind: string; apiVersion: string };

function kubeConfigFor(server: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 't', server, skipTLSVerify: true }],
    users: [{ name: 'u' }],
    contexts: [{ name: 'c', cluster: 't', user: 'u' }],
    currentContext: 'c',
  });
  return kc;
}

function node(name: string, zone = 'z1'): ApiObject {
  return {
    metadata: { name, labels: { 'topology.kubernetes.io/zone': zone }, creationTimestamp: '2024-01-02T03:04:05Z' },
    spec: {},
  };
}

function service(name: string, namespace = 'shop', clusterIP = '10.96.0.10'): ApiObject {
  return {
    metadata: { name, namespace },
    spec: { clusterIP, ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 'http' }] },
  };
}

function slice(name: string, service: string, addresses: string[], namespace = 'shop'): ApiObject {
  return {
    metadata: { name, namespace, labels: { 'kubernetes.io/service-name': service } },
    addressType: 'IPv4',
    endpoints: addresses.map((address) => ({ addresses: [address], conditions: { ready: true }, nodeName: 'node-a', zone: 'z1' })),
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  };
}

function namespace(name: string): ApiObject {
  return { metadata: { name } };
}

function destinationRule(name: string, namespace = 'shop'): ApiObject {
  return {
    metadata: { name, namespace, creationTimestamp: '2024-01-02T03:04:05Z' },
    spec: { host: 'web', trafficPolicy: { loadBalancer: { simple: 'ROUND_ROBIN' } } },
  };
}

/** Keeps what the source logs, to check what it says and how often. */
function recordingLog(): SourceLog & { lines: string[] } {
  const lines: string[] = [];
  return { lines, info: (_fields, message) => lines.push(`info: ${message}`), warn: (_fields, message) => lines.push(`warn: ${message}`) };
}

function seed(server: FakeApiServer): void {
  server.apply(NODES, node('node-a'));
  server.apply(NODES, node('node-b', 'z2'));
  server.apply(SERVICES, service('web'));
  server.apply(SLICES, slice('web-1', 'web', ['10.0.0.1', '10.0.0.2']));
  server.apply(NAMESPACES, namespace('shop'));
}

function names(source: KubernetesSource): string[] {
  return (source.objects() as Raw[]).map((o) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`).sort();
}

function find(source: KubernetesSource, kind: string, name: string): Raw | undefined {
  return (source.objects() as Raw[]).find((o) => o.kind === kind && o.metadata.name === name);
}

function resourceVersionOf(source: KubernetesSource, kind: string): string | undefined {
  return source.kindStatus().find((k) => k.kind === kind)?.resourceVersion;
}

const FAST = { backoff: { initialMs: 50, maxMs: 200, jitter: 0 }, listTimeoutMs: 2_000, minWatchLifetimeMs: 100 };

describe('KubernetesSource', () => {
  let server: FakeApiServer;
  let source: KubernetesSource | undefined;
  let changes = 0;

  afterEach(async () => {
    await source?.stop();
    source = undefined;
    await ifSetUp(server)?.close();
  });

  async function startAgainst(url: string, extra: Partial<KubernetesSourceOptions> = {}): Promise<KubernetesSource> {
    changes = 0;
    source = new KubernetesSource({ kubeConfig: kubeConfigFor(url), ...FAST, ...extra });
    source.onChange(() => (changes += 1));
    await source.start();
    return source;
  }

  async function startSynced(
    prepare: (server: FakeApiServer) => void = () => undefined,
    extra: Partial<KubernetesSourceOptions> = {},
  ): Promise<KubernetesSource> {
    server = new FakeApiServer();
    seed(server);
    prepare(server);
    const s = await startAgainst(await server.listen(), extra);
    await waitFor(() => s.status().synced, 3_000, 'initial sync');
    // The watches must be open before a test scripts server-side events.
    await waitFor(
      () => [NODES, SERVICES, SLICES, NAMESPACES].every((path) => server.openWatches(path).length === 1),
      3_000,
      'four open watches',
    );
    return s;
  }

  it('lists all four kinds, fills in kind and apiVersion, and watches with bookmarks from the list version', async () => {
    const s = await startSynced();
    expect(names(s)).toEqual(['EndpointSlice/shop/web-1', 'Namespace//shop', 'Node//node-a', 'Node//node-b', 'Service/shop/web']);
    expect(find(s, 'EndpointSlice', 'web-1')).toMatchObject({ apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice' });
    const nodeA = find(s, 'Node', 'node-a');
    expect(nodeA).toMatchObject({ apiVersion: 'v1', kind: 'Node' });
    // Plain JSON, as a watch event would carry it (no class instances from the typed client),
    // cut down to the fields the model reads so the cache stays small.
    expect(Object.getPrototypeOf(nodeA)).toBe(Object.prototype);
    expect(nodeA?.metadata.creationTimestamp).toBeUndefined();
    expect((find(s, 'Service', 'web')?.spec as { ports: unknown[] }).ports[0]).toEqual({ name: 'http', port: 80, protocol: 'TCP' });

    const status = s.status();
    expect(status.synced).toBe(true);
    expect(status.message).toBeUndefined();
    expect(status.lastSyncMs).toBeGreaterThan(0);
    expect(changes).toBeGreaterThan(0);

    for (const path of [NODES, SERVICES, SLICES, NAMESPACES]) {
      const [list] = server.requestsFor(path, 'list');
      const [watch] = server.requestsFor(path, 'watch');
      expect(list, path).toBeDefined();
      expect(watch?.query.get('allowWatchBookmarks'), path).toBe('true');
      expect(watch?.query.get('resourceVersion'), path).toBe(server.resourceVersion);
      expect(Number(watch?.query.get('timeoutSeconds')), path).toBeGreaterThan(0);
    }
    expect(s.stats()).toMatchObject({ lists: 4, relists: 0, watches: 4, watchRestarts: 0, errors: 0 });
  });

  it('applies added, modified and deleted objects from the watch streams', async () => {
    const s = await startSynced();
    const before = changes;

    server.apply(SERVICES, service('api', 'shop', '10.96.0.20'));
    server.apply(NODES, node('node-b', 'z3'));
    server.apply(SLICES, slice('web-1', 'web', ['10.0.0.1']));
    server.delete(NAMESPACES, 'shop');

    await waitFor(
      () => expect(names(s)).toEqual(['EndpointSlice/shop/web-1', 'Node//node-a', 'Node//node-b', 'Service/shop/api', 'Service/shop/web']),
      3_000,
      'watched changes',
    );
    await waitFor(() => expect(find(s, 'Node', 'node-b')?.metadata.labels).toEqual({ 'topology.kubernetes.io/zone': 'z3' }));
    const endpoints = (find(s, 'EndpointSlice', 'web-1') as { endpoints: unknown[] } | undefined)?.endpoints;
    expect(endpoints).toHaveLength(1);
    expect(find(s, 'Service', 'api')).toMatchObject({ kind: 'Service', apiVersion: 'v1', spec: { clusterIP: '10.96.0.20' } });
    expect(changes).toBeGreaterThan(before);
    expect(s.stats()).toMatchObject({ events: 4, relists: 0, watchRestarts: 0 });
    expect(resourceVersionOf(s, 'Namespace')).toBe(server.resourceVersion);
  });

  it('relists after 410 Gone and ends up with the server state, including changes it never saw as events', async () => {
    const s = await startSynced();

    server.deleteUnrecorded(SLICES, 'web-1', 'shop');
    server.applyUnrecorded(SLICES, slice('web-2', 'web', ['10.0.0.9']));
    server.expire(SLICES);

    await waitFor(
      () => expect(names(s).filter((n) => n.startsWith('EndpointSlice'))).toEqual(['EndpointSlice/shop/web-2']),
      3_000,
      'relisted state',
    );
    expect(server.requestsFor(SLICES, 'list')).toHaveLength(2);
    await waitFor(() => server.openWatches(SLICES).length === 1, 3_000, 'watch reopened after relist');
    expect(s.stats()).toMatchObject({ relists: 1 });
    expect(s.status()).toMatchObject({ synced: true });
    expect(s.status().message).toBeUndefined();

    // The new watch carries on from the relist: later events still arrive.
    server.apply(SLICES, slice('web-3', 'web', ['10.0.0.10']));
    await waitFor(() => expect(names(s)).toContain('EndpointSlice/shop/web-3'), 3_000, 'event after relist');
  });

  it('relists when a resumed watch is refused with 410 after a drop', async () => {
    const s = await startSynced();
    server.dropWatches(NODES);
    server.applyUnrecorded(NODES, node('node-c'));
    server.expire(NODES);
    await waitFor(() => expect(names(s)).toContain('Node//node-c'), 3_000, 'relist after refused resume');
    expect(server.requestsFor(NODES, 'list')).toHaveLength(2);
  });

  it('reconnects a dropped watch from its last resourceVersion and catches up without relisting', async () => {
    const s = await startSynced();
    const seenVersion = resourceVersionOf(s, 'Service');

    expect(server.dropWatches(SERVICES)).toBe(1);
    // Changes made while no watch is open; the resumed watch must replay them.
    server.apply(SERVICES, service('late', 'shop', '10.96.0.30'));
    server.delete(SERVICES, 'web', 'shop');

    await waitFor(() => expect(names(s).filter((n) => n.startsWith('Service'))).toEqual(['Service/shop/late']), 3_000, 'caught up');
    expect(server.requestsFor(SERVICES, 'list')).toHaveLength(1);
    const watches = server.requestsFor(SERVICES, 'watch');
    expect(watches).toHaveLength(2);
    expect(watches[1]?.query.get('resourceVersion')).toBe(seenVersion);
    expect(s.stats()).toMatchObject({ relists: 0, watchRestarts: 1 });
    expect(s.status().synced).toBe(true);
  });

  it('advances the resourceVersion on a bookmark without changing objects', async () => {
    const s = await startSynced();
    await sleep(20);
    const objectsBefore = structuredClone(s.objects());
    const changesBefore = changes;

    const bookmarked = server.bookmark(NODES);
    await waitFor(() => resourceVersionOf(s, 'Node') === bookmarked, 3_000, 'bookmark resourceVersion');
    await sleep(50);

    expect(s.objects()).toEqual(objectsBefore);
    expect(changes).toBe(changesBefore);
    expect(s.stats()).toMatchObject({ bookmarks: 1, events: 0 });

    // A later reconnect resumes from the bookmark, not from the older list version.
    server.dropWatches(NODES);
    await waitFor(() => server.requestsFor(NODES, 'watch').length === 2, 3_000, 'resumed watch');
    expect(server.requestsFor(NODES, 'watch')[1]?.query.get('resourceVersion')).toBe(bookmarked);
  });

  it('retries a failing list with backoff, naming the kind, then syncs', async () => {
    server = new FakeApiServer();
    seed(server);
    server.failLists(SLICES, 2);
    const s = await startAgainst(await server.listen());

    await waitFor(() => expect(s.status().message).toMatch(/EndpointSlice: list failed: HTTP 500/), 3_000, 'list failure reported');
    expect(s.status().synced).toBe(false);
    await waitFor(() => s.status().synced, 3_000, 'sync after retries');
    expect(s.status().message).toBeUndefined();
    expect(server.requestsFor(SLICES, 'list')).toHaveLength(3);
    expect(s.stats().errors).toBe(2);
    expect(names(s)).toContain('EndpointSlice/shop/web-1');
  });

  it('reports an unreachable API server, keeps retrying, and syncs once it comes up', async () => {
    const port = await freePort();
    const s = await startAgainst(`http://127.0.0.1:${port}`);

    await waitFor(() => expect(s.status().message).toMatch(/^API server unreachable: .*ECONNREFUSED/), 3_000, 'unreachable');
    expect(s.status().synced).toBe(false);
    expect(s.status().lastSyncMs).toBe(0);
    await waitFor(() => s.stats().errors >= 8, 3_000, 'retries');

    server = new FakeApiServer();
    seed(server);
    await server.listen(port);
    await waitFor(() => s.status().synced, 3_000, 'sync after the server appears');
    expect(names(s)).toHaveLength(5);
    expect(s.status().message).toBeUndefined();
  });

  it('keeps its objects and retries when the server goes away after sync', async () => {
    const s = await startSynced();
    const port = server.port;
    await server.close();

    await waitFor(() => expect(s.status().message).toMatch(/API server unreachable/), 3_000, 'outage reported');
    expect(s.status().synced).toBe(true);
    expect(names(s)).toHaveLength(5);

    server = new FakeApiServer();
    seed(server);
    server.apply(NODES, node('node-z'));
    // A restarted server has no history for the versions the agent holds: resumed watches get 410.
    for (const path of [NODES, SERVICES, SLICES, NAMESPACES]) server.expire(path);
    await server.listen(port);
    await waitFor(() => expect(names(s)).toContain('Node//node-z'), 5_000, 'caught up after outage');
    await waitFor(() => s.stats().relists === 4, 3_000, 'every kind relisted');
    await waitFor(() => s.status().message === undefined, 3_000, 'outage cleared');
  });

  describe('DestinationRules, an optional kind', () => {
    const CHECK = { optionalKindCheckMs: 100 };

    it('without the CRD: syncs as before, says so once at info, no error, and keeps asking discovery', async () => {
      const log = recordingLog();
      const s = await startSynced(undefined, { ...CHECK, log });
      expect(s.status()).toMatchObject({ synced: true });
      await waitFor(() => server.requests.filter((r) => r.path === '/apis').length >= 3, 3_000, 'discovery asked again');
      expect(s.status().message).toBeUndefined();
      expect(s.kindStatus().map((k) => k.kind)).not.toContain('DestinationRule');
      expect(s.stats().errors).toBe(0);
      expect(log.lines).toEqual(['info: DestinationRules not served; checking again every 0 s']);
      expect(server.requestsFor(RULES_V1, 'list')).toHaveLength(0);
    });

    it('with the CRD: lists and watches the served version, and its objects arrive and change', async () => {
      const s = await startSynced((api) => {
        api.serveGroup(ISTIO, ['v1', 'v1beta1', 'v1alpha3']);
        api.apply(RULES_V1, destinationRule('web-rr'));
      }, CHECK);
      await waitFor(() => expect(names(s)).toContain('DestinationRule/shop/web-rr'), 3_000, 'rule listed');
      expect(find(s, 'DestinationRule', 'web-rr')).toMatchObject({ apiVersion: 'networking.istio.io/v1', spec: { host: 'web' } });
      expect(server.requestsFor(RULES_V1BETA1, 'list')).toHaveLength(0);
      await waitFor(() => server.openWatches(RULES_V1).length === 1, 3_000, 'rule watch open');
      const before = changes;
      server.apply(RULES_V1, destinationRule('web-second'));
      await waitFor(() => expect(names(s)).toContain('DestinationRule/shop/web-second'), 3_000, 'watched rule');
      expect(changes).toBeGreaterThan(before);
      expect(s.kindStatus().find((k) => k.kind === 'DestinationRule')).toMatchObject({ synced: true });
    });

    it('prefers v1, else v1beta1: an API server serving only v1beta1 is watched at v1beta1', async () => {
      const s = await startSynced((api) => {
        api.serveGroup(ISTIO, ['v1beta1', 'v1alpha3']);
        api.apply(RULES_V1BETA1, destinationRule('old-style'));
      }, CHECK);
      await waitFor(() => expect(find(s, 'DestinationRule', 'old-style')).toMatchObject({ apiVersion: 'networking.istio.io/v1beta1' }));
      expect(server.requestsFor(RULES_V1, 'list')).toHaveLength(0);
    });

    it('picks up a CRD installed later, and drops its objects when it goes', async () => {
      const log = recordingLog();
      const s = await startSynced(undefined, { ...CHECK, log });
      server.apply(RULES_V1, destinationRule('late'));
      server.serveGroup(ISTIO, ['v1']);
      const before = changes;
      await waitFor(() => expect(names(s)).toContain('DestinationRule/shop/late'), 3_000, 'rule after the CRD appeared');
      expect(changes).toBeGreaterThan(before);
      expect(s.status()).toMatchObject({ synced: true });

      server.stopServingGroup(ISTIO);
      await waitFor(() => expect(names(s)).not.toContain('DestinationRule/shop/late'), 3_000, 'rule gone with the CRD');
      expect(names(s)).toContain('Service/shop/web');
      expect(s.status().synced).toBe(true);
      expect(log.lines).toEqual([
        'info: DestinationRules not served; checking again every 0 s',
        'info: DestinationRules served; watching them',
        'info: DestinationRules not served; checking again every 0 s',
      ]);
    });

    it('a failing list of DestinationRules holds up neither the required kinds nor the sync', async () => {
      server = new FakeApiServer();
      seed(server);
      server.serveGroup(ISTIO, ['v1']);
      server.failLists(RULES_V1, 1_000);
      const s = await startAgainst(await server.listen(), CHECK);
      await waitFor(() => s.status().synced, 3_000, 'sync without the rules');
      await waitFor(() => server.requestsFor(RULES_V1, 'list').length >= 2, 3_000, 'rule lists retried');
      expect(s.status().synced).toBe(true);
      expect(s.kindStatus().find((k) => k.kind === 'DestinationRule')).toMatchObject({ synced: false });
    });

    it('stops its discovery timer on stop()', async () => {
      const s = await startSynced(undefined, CHECK);
      await s.stop();
      source = undefined;
      const count = server.requests.length;
      await sleep(350);
      expect(server.requests.length).toBe(count);
    });
  });

  it('a watch still connecting when stop() comes is closed as soon as it opens', async () => {
    server = new FakeApiServer();
    seed(server);
    server.holdWatches();
    const s = await startAgainst(await server.listen());
    await waitFor(() => s.status().synced, 3_000, 'initial sync');
    await waitFor(() => server.requests.filter((r) => r.watch).length >= 4, 3_000, 'a watch request per kind');
    await s.stop();
    source = undefined;
    expect(server.releaseWatches()).toBeGreaterThanOrEqual(4);
    await waitFor(() => server.openWatches().length === 0, 3_000, 'the late streams closed');
    await sleep(200);
    expect(server.openWatches()).toHaveLength(0);
  });

  it('stops cleanly: no requests after stop()', async () => {
    const s = await startSynced();
    await s.stop();
    source = undefined;
    const count = server.requests.length;
    await sleep(300);
    expect(server.requests.length).toBe(count);
    expect(server.openWatches()).toHaveLength(0);
  });
});

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', () => resolve()));
  const address = probe.address();
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}
