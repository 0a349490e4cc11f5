// KubernetesSource, in process, against a real kube-apiserver: it lists what exists before it
// starts, names every create, update and delete of the four kinds it watches, and after a
// partition that outlives etcd's history it gets 410 Gone, relists, and ends up holding exactly
// what the API holds. It runs as the agent does: with the ServiceAccount token and RBAC of
// deploy/ (agentIdentity), never as admin. Needs the binaries of `make control-plane`; fails,
// never skips, when they are missing.
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestControlPlane, type TestControlPlane } from './control-plane-fixture.js';
import { agentIdentity, type ControlPlane } from '../../lab/control-plane/index.js';
import { AgentMetrics } from '../../pkg/metrics/index.js';
import { KubernetesSource, type ObjectChange, type WatchedKind } from '../../pkg/source/index.js';
import { SeverableProxy } from './severable-proxy.js';
import { ifSetUp } from '../fixtures/if-set-up.js';

const NS = 'pre-ns';
const TRAFFIC_DISTRIBUTION = 'networking.istio.io/traffic-distribution';
/** Short and fixed, so a healed partition is retried within a second; the partition, not the backoff, decides when. */
const BACKOFF = { initialMs: 200, maxMs: 1_000, jitter: 0 };

let env: TestControlPlane;
let cp: ControlPlane;
let proxy: SeverableProxy;
let source: KubernetesSource;
let agentKubeconfig: string;
/** Every onChange call: its named changes, or undefined for "anything may have changed" (a sync). */
const batches: Array<readonly ObjectChange[] | undefined> = [];

type Json = Record<string, unknown>;

const node = (name: string, labels: Record<string, string>): Json => ({ apiVersion: 'v1', kind: 'Node', metadata: { name, labels } });
const namespace = (name: string, annotations: Record<string, string>): Json => ({
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name, annotations },
});
/** No selector: the controller manager makes no EndpointSlices for it, so the test's are the only ones. */
const service = (name: string, port: number, extra: Json = {}): Json => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace: NS },
  spec: { ports: [{ name: 'http', port, protocol: 'TCP' }], ...extra },
});
const slice = (name: string, serviceName: string, addresses: readonly string[]): Json => ({
  apiVersion: 'discovery.k8s.io/v1',
  kind: 'EndpointSlice',
  metadata: { name, namespace: NS, labels: { 'kubernetes.io/service-name': serviceName } },
  addressType: 'IPv4',
  ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  endpoints: addresses.map((ip) => ({ addresses: [ip], conditions: { ready: true }, nodeName: 'pre-node' })),
});

async function kubectl(args: string[], input?: string): Promise<string> {
  const result = await cp.kubectl(args, input);
  if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
  return result.stdout;
}

const apply = (...objects: Json[]): Promise<string> =>
  kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }));

async function eventually<T>(what: string, read: () => T | Promise<T>, done: (value: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() >= deadline)
      throw new Error(`${what}: not reached within ${timeoutMs} ms; last seen ${JSON.stringify(value).slice(0, 3000)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

interface Meta {
  readonly name: string;
  readonly namespace?: string;
  readonly resourceVersion?: string;
  readonly labels?: Record<string, string>;
  readonly annotations?: Record<string, string>;
}

const keyOf = (kind: string, meta: Meta): string => `${kind} ${meta.namespace ? `${meta.namespace}/` : ''}${meta.name}`;

/** kind name -> resourceVersion of every object the source holds. */
function sourceVersions(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const object of source.objects() as Array<{ kind: string; metadata: Meta }>)
    out[keyOf(object.kind, object.metadata)] = object.metadata.resourceVersion ?? '';
  return out;
}

/** The same, as the API server holds it now (read as admin, so RBAC cannot hide a difference). */
async function apiVersions(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const kinds: Array<[WatchedKind, string[]]> = [
    ['Node', ['nodes']],
    ['Namespace', ['namespaces']],
    ['Service', ['services', '-A']],
    ['EndpointSlice', ['endpointslices.discovery.k8s.io', '-A']],
  ];
  for (const [kind, args] of kinds) {
    const list = JSON.parse(await kubectl(['get', ...args, '-o', 'json'])) as { items: Array<{ metadata: Meta }> };
    for (const item of list.items) out[keyOf(kind, item.metadata)] = item.metadata.resourceVersion ?? '';
  }
  return out;
}

/**
 * Until the source holds every object the API holds, at the same resourceVersion. Polled:
 * controllers keep changing objects (the node lifecycle controller taints the Nodes).
 */
async function holdsWhatApiHolds(timeoutMs = 20_000): Promise<void> {
  const sorted = (versions: Record<string, string>): string => JSON.stringify(Object.entries(versions).sort());
  let api: Record<string, string>;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    api = await apiVersions();
    if (sorted(sourceVersions()) === sorted(api)) return;
    if (Date.now() >= deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  expect(sourceVersions(), 'the source vs the API, kind name -> resourceVersion').toEqual(api);
}

/** The source's object of that kind and name ("ns/name" or "name"), if it holds one. */
function held(kind: WatchedKind, name: string): { metadata: Meta; [field: string]: unknown } | undefined {
  return (source.objects() as Array<{ kind: string; metadata: Meta }>).find(
    (o) => o.kind === kind && keyOf(kind, o.metadata) === `${kind} ${name}`,
  );
}

/** The named changes of every batch from `from` on, flattened. */
const changesSince = (from: number): ObjectChange[] => batches.slice(from).flatMap((batch) => batch ?? []);

const latestChange = (from: number, kind: WatchedKind, name: string): ObjectChange | undefined =>
  changesSince(from)
    .filter((c) => c.kind === kind && c.name === name)
    .at(-1);

/** Waits until a batch after `from` names this change; `object` undefined means a deletion. */
async function changeNamed(
  from: number,
  kind: WatchedKind,
  name: string,
  check: (object: { metadata: Meta; [field: string]: unknown } | undefined) => boolean,
): Promise<ObjectChange> {
  const found = await eventually(
    `a change of ${kind} ${name}`,
    () => changesSince(from).filter((c) => c.kind === kind && c.name === name && check(c.object as never)),
    (list) => list.length > 0,
  );
  return found[0]!;
}

beforeAll(async () => {
  env = await startTestControlPlane('kubernetes-source-test');
  cp = env.cp;
  agentKubeconfig = await agentIdentity(cp);

  // What exists before the source starts: one of each kind, with the fields the model reads.
  await apply(node('pre-node', { 'topology.kubernetes.io/zone': 'zone1' }), namespace(NS, { [TRAFFIC_DISTRIBUTION]: 'PreferClose' }));
  await apply(service('web', 80), slice('web-abc', 'web', ['10.1.0.1']));

  // The agent's kubeconfig as agentIdentity wrote it, reaching the apiserver through the relay.
  proxy = await SeverableProxy.start({ host: '127.0.0.1', port: Number(new URL(cp.server).port) });
  const agent = new KubeConfig();
  agent.loadFromFile(agentKubeconfig);
  expect(agent.getCurrentUser()?.token, 'the source authenticates with the ServiceAccount token').toBeTruthy();
  expect(agent.getCurrentUser()?.certFile, 'not with the admin certificate').toBeUndefined();
  const viaProxy = new KubeConfig();
  viaProxy.loadFromOptions({
    clusters: agent.clusters.map((c) => ({ ...c, server: proxy.url })),
    users: agent.users,
    contexts: agent.contexts,
    currentContext: agent.currentContext,
  });
  source = new KubernetesSource({
    kubeConfig: viaProxy,
    backoff: BACKOFF,
    onListenerError: (err) => console.error('onChange listener threw', err),
  });
  source.onChange((changes) => batches.push(changes));
  await source.start();
}, 180_000);

afterAll(async () => {
  try {
    await ifSetUp(source)?.stop();
    await ifSetUp(proxy)?.close();
  } finally {
    await ifSetUp(env)?.stop();
  }
}, 60_000);

describe('KubernetesSource against a real API server, as the agent', () => {
  it('lists the objects that existed before it started, and signals the sync', async () => {
    await eventually(
      'the initial sync',
      () => source.status(),
      (s) => s.synced,
      30_000,
    );
    expect(source.status().message).toBeUndefined();
    expect(
      batches.some((b) => b === undefined),
      'a sync is signalled as "anything may have changed"',
    ).toBe(true);

    expect(held('Node', 'pre-node')?.metadata.labels).toMatchObject({ 'topology.kubernetes.io/zone': 'zone1' });
    expect(held('Namespace', NS)?.metadata.annotations).toEqual({ [TRAFFIC_DISTRIBUTION]: 'PreferClose' });
    expect(held('Service', `${NS}/web`)).toMatchObject({
      apiVersion: 'v1',
      kind: 'Service',
      spec: { ports: [{ name: 'http', port: 80, protocol: 'TCP' }] },
    });
    expect(held('EndpointSlice', `${NS}/web-abc`)).toMatchObject({
      apiVersion: 'discovery.k8s.io/v1',
      addressType: 'IPv4',
      endpoints: [{ addresses: ['10.1.0.1'], nodeName: 'pre-node', conditions: { ready: true } }],
    });
    // Everything, not just the test's objects: kube-system, the kubernetes Service, ...
    await holdsWhatApiHolds();
    for (const status of source.kindStatus()) expect(status, status.kind).toMatchObject({ synced: true });
  });

  const cases: Array<{
    kind: WatchedKind;
    name: string;
    create: Json;
    update: () => Promise<unknown>;
    created: (o: { metadata: Meta; [field: string]: unknown }) => boolean;
    updated: (o: { metadata: Meta; [field: string]: unknown }) => boolean;
    remove: string[];
  }> = [
    {
      kind: 'Node',
      name: 'node-a',
      create: node('node-a', { 'topology.kubernetes.io/zone': 'zone1' }),
      update: () => kubectl(['label', 'node', 'node-a', 'topology.kubernetes.io/zone=zone2', '--overwrite']),
      created: (o) => o.metadata.labels?.['topology.kubernetes.io/zone'] === 'zone1',
      updated: (o) => o.metadata.labels?.['topology.kubernetes.io/zone'] === 'zone2',
      remove: ['node', 'node-a'],
    },
    {
      kind: 'Namespace',
      name: 'ns-a',
      create: namespace('ns-a', { [TRAFFIC_DISTRIBUTION]: 'PreferClose' }),
      update: () => kubectl(['annotate', 'namespace', 'ns-a', `${TRAFFIC_DISTRIBUTION}=PreferSameNode`, '--overwrite']),
      created: (o) => o.metadata.annotations?.[TRAFFIC_DISTRIBUTION] === 'PreferClose',
      updated: (o) => o.metadata.annotations?.[TRAFFIC_DISTRIBUTION] === 'PreferSameNode',
      // Terminating first (a MODIFIED), then gone once the namespace controller has emptied it.
      remove: ['namespace', 'ns-a'],
    },
    {
      kind: 'Service',
      name: `${NS}/svc-a`,
      create: service('svc-a', 80),
      update: () => apply(service('svc-a', 80, { trafficDistribution: 'PreferClose' })),
      created: (o) => (o['spec'] as { trafficDistribution?: string }).trafficDistribution === undefined,
      updated: (o) => (o['spec'] as { trafficDistribution?: string }).trafficDistribution === 'PreferClose',
      remove: ['service', 'svc-a', '-n', NS],
    },
    {
      kind: 'EndpointSlice',
      name: `${NS}/svc-a-1`,
      create: slice('svc-a-1', 'svc-a', ['10.1.1.1']),
      update: () => apply(slice('svc-a-1', 'svc-a', ['10.1.1.1', '10.1.1.2'])),
      created: (o) => (o['endpoints'] as unknown[]).length === 1,
      updated: (o) =>
        JSON.stringify((o['endpoints'] as Array<{ addresses: string[] }>).map((e) => e.addresses)) === '[["10.1.1.1"],["10.1.1.2"]]',
      remove: ['endpointslices.discovery.k8s.io', 'svc-a-1', '-n', NS],
    },
  ];

  for (const c of cases) {
    it(`names the create, update and delete of a ${c.kind}`, async () => {
      let from = batches.length;
      await apply(c.create);
      await changeNamed(from, c.kind, c.name, (o) => o !== undefined && c.created(o));
      // Controllers may have changed it again since (the TTL controller annotates Nodes): the
      // latest named change, not the first, is what objects() must hold.
      expect(held(c.kind, c.name), 'objects() holds what the latest change named').toEqual(latestChange(from, c.kind, c.name)?.object);
      expect(c.created(held(c.kind, c.name)!)).toBe(true);

      from = batches.length;
      await c.update();
      await changeNamed(from, c.kind, c.name, (o) => o !== undefined && c.updated(o));
      expect(held(c.kind, c.name)).toEqual(latestChange(from, c.kind, c.name)?.object);
      expect(c.updated(held(c.kind, c.name)!)).toBe(true);

      from = batches.length;
      await kubectl(['delete', ...c.remove, '--wait=false']);
      await changeNamed(from, c.kind, c.name, (o) => o === undefined);
      expect(held(c.kind, c.name), 'gone from objects()').toBeUndefined();
      expect(source.status().message).toBeUndefined();
    }, 60_000);
  }

  it('relists after a partition that outlived etcd history (410 Gone), naming what changed meanwhile, and holds what the API holds', async () => {
    /*
     * Deterministic by construction, not by timing: the source reaches the apiserver only
     * through the relay. Cutting it breaks every watch and makes every retry fail however short
     * the backoff; the changes below and the compaction happen while it is cut, so each kind's
     * last resourceVersion is older than etcd's compacted revision when the relay heals. Its
     * next retry resumes each watch from that resourceVersion, which can only answer 410 Gone,
     * and a relist is the only way the source can learn about the changes. (Stopping the
     * apiserver instead would race the source's retries against the restart; the lab test
     * api-outage.test.ts does that with agent processes.)
     */
    const before = source.stats();
    const versionsBefore = Object.fromEntries(source.kindStatus().map((s) => [s.kind, Number(s.resourceVersion)]));
    proxy.sever();
    await eventually(
      'every kind to see the partition',
      () => source.kindStatus(),
      (all) => all.every((s) => s.error !== undefined),
      15_000,
    );
    expect(source.status().message).toMatch(/^API server unreachable: /);
    expect(source.status().synced, 'the last known state is kept').toBe(true);

    await apply(node('cut-node', { 'topology.kubernetes.io/zone': 'zone3' }), service('during-cut', 8080));
    await kubectl(['label', 'node', 'pre-node', 'topology.kubernetes.io/zone=zone2', '--overwrite']);
    await kubectl(['annotate', 'namespace', NS, `${TRAFFIC_DISTRIBUTION}=PreferSameZone`, '--overwrite']);
    await kubectl(['delete', 'endpointslices.discovery.k8s.io', 'web-abc', '-n', NS]);
    const revision = await cp.compactEtcd();
    for (const [kind, version] of Object.entries(versionsBefore))
      expect(revision, `compacted revision vs ${kind}'s resourceVersion`).toBeGreaterThan(version + 1);
    // The partition held: the source saw none of it, and kept trying.
    expect(held('Node', 'cut-node')).toBeUndefined();
    expect(held('EndpointSlice', `${NS}/web-abc`)).toBeDefined();
    expect(source.stats().relists).toBe(before.relists);
    await eventually(
      'retries against the cut relay',
      () => proxy.refusedWhileCut,
      (n) => n >= 4,
      10_000,
    );

    const from = batches.length;
    const healedAt = performance.now();
    proxy.heal();
    const relisted = await eventually(
      'every kind to relist past the compacted revision',
      () => source.kindStatus(),
      (all) => all.every((s) => s.error === undefined && Number(s.resourceVersion) >= revision),
      20_000,
    );
    const stats = source.stats();
    console.info(
      `partition healed: relisted in ${Math.round(performance.now() - healedAt)} ms; relists ${before.relists} -> ${stats.relists}, ` +
        `watch restarts ${before.watchRestarts} -> ${stats.watchRestarts}; resourceVersions ${JSON.stringify(versionsBefore)} -> ${JSON.stringify(Object.fromEntries(relisted.map((s) => [s.kind, s.resourceVersion])))} (compacted to ${revision})`,
    );
    // One relist per kind: each resumed from a compacted resourceVersion and was told 410.
    expect(stats.relists - before.relists).toBe(4);
    expect(source.status()).toMatchObject({ synced: true });
    expect(source.status().message).toBeUndefined();

    // The relist names each change made during the partition (as a list diff: adds, updates, deletes).
    await changeNamed(from, 'Node', 'cut-node', (o) => o?.metadata.labels?.['topology.kubernetes.io/zone'] === 'zone3');
    await changeNamed(from, 'Node', 'pre-node', (o) => o?.metadata.labels?.['topology.kubernetes.io/zone'] === 'zone2');
    await changeNamed(from, 'Namespace', NS, (o) => o?.metadata.annotations?.[TRAFFIC_DISTRIBUTION] === 'PreferSameZone');
    await changeNamed(from, 'Service', `${NS}/during-cut`, (o) => o !== undefined);
    await changeNamed(from, 'EndpointSlice', `${NS}/web-abc`, (o) => o === undefined);

    // And what it holds is exactly the API's: every object, at the API's resourceVersion.
    await holdsWhatApiHolds();

    // The agent's metric counts the same relists.
    const metrics = new AgentMetrics({ defaultMetrics: false });
    metrics.recordSourceStats(stats);
    const relists = (await metrics.registry.getSingleMetric('nearby_watch_relists_total')!.get()).values[0]?.value;
    expect(relists).toBe(stats.relists);
  }, 90_000);
});
