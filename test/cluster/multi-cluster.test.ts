// Remote clusters on two real control planes (docs/multi-cluster.md): the agent's source and
// model in process, the local side reading as the agent's ServiceAccount (deploy/rbac.yaml plus
// deploy/multi-cluster/), the remote side through a Secret from `nearbyctl create-remote-secret`.
//  - remote endpoints merge into the local Service, keyed by cluster (both clusters have a node "cp");
//  - a remote node relabelled changes the ranking;
//  - a malformed Secret is rejected by name while the good one keeps working;
//  - the remote API server stopped: its last known endpoints stay, status says it is stale, then recovers;
//  - the remote Secret deleted: that cluster's endpoints leave within a second.
// Needs the binaries of `make control-plane`; fails, never skips, when they are missing.
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { createRemoteSecret } from '../../cmd/ctl/remote-secret.js';
import { agentIdentity } from '../../lab/control-plane/index.js';
import { SnapshotStore } from '../../pkg/model/index.js';
import { plan } from '../../pkg/planner/index.js';
import { KubernetesSource, MultiClusterSource, RemoteClusters, type RemoteClustersStatus } from '../../pkg/source/index.js';
import { DEPLOY } from '../fixtures/deploy-render.js';
import { ifSetUp } from '../fixtures/if-set-up.js';
import { startTestControlPlane, type TestControlPlane } from './control-plane-fixture.js';

const NS = 'sample';
const SECRETS_NS = 'istio-system';
const BACKOFF = { initialMs: 200, maxMs: 1_000, jitter: 0 };

let local: TestControlPlane;
let remote: TestControlPlane;
let remotes: RemoteClusters;
let source: MultiClusterSource;
/** cluster2's kubeconfig as its Secret holds it: good credentials to put in a Secret the agent must not use. */
let cluster2Kubeconfig: string;
const store = new SnapshotStore();

type Json = Record<string, unknown>;

const node = (name: string, labels: Record<string, string>): Json => ({ apiVersion: 'v1', kind: 'Node', metadata: { name, labels } });
const locality = (region: string, zone: string): Record<string, string> => ({
  'topology.kubernetes.io/region': region,
  'topology.kubernetes.io/zone': zone,
});
/** No selector: the controller manager makes no EndpointSlices for it, so the test's are the only ones. */
const service = (extra: Json = {}): Json => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'helloworld', namespace: NS },
  spec: { ports: [{ name: 'http', port: 5000, protocol: 'TCP' }], ...extra },
});
const slice = (name: string, endpoints: ReadonlyArray<[string, string]>): Json => ({
  apiVersion: 'discovery.k8s.io/v1',
  kind: 'EndpointSlice',
  metadata: { name, namespace: NS, labels: { 'kubernetes.io/service-name': 'helloworld' } },
  addressType: 'IPv4',
  ports: [{ name: 'http', port: 5000, protocol: 'TCP' }],
  endpoints: endpoints.map(([ip, nodeName]) => ({ addresses: [ip], conditions: { ready: true }, nodeName })),
});

async function kubectl(on: TestControlPlane, args: string[], input?: string): Promise<string> {
  const result = await on.cp.kubectl(args, input);
  if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
  return result.stdout;
}
const apply = (on: TestControlPlane, ...objects: Json[]): Promise<string> =>
  kubectl(on, ['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }));

async function eventually<T>(what: string, read: () => T, done: (value: T) => boolean, timeoutMs = 20_000, pollMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (done(value)) return value;
    if (Date.now() >= deadline)
      throw new Error(`${what}: not reached within ${timeoutMs} ms; last seen ${JSON.stringify(value).slice(0, 2000)}`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

/** The tiers of helloworld for the local node cp, as addresses. */
function tiersOnCp(): string[][] {
  const planned = plan(store.snapshot, 'cp', { localCluster: 'cluster1' }).services.find((s) => s.service === `${NS}/helloworld`);
  return planned?.entries[0]?.tiers.map((t) => t.endpoints.map((e) => e.address)) ?? [];
}

const remoteStatus = (): RemoteClustersStatus => remotes.status();
const cluster2 = (): RemoteClustersStatus['clusters'][number] | undefined => remoteStatus().clusters.find((c) => c.cluster === 'cluster2');

beforeAll(async () => {
  [local, remote] = await Promise.all([
    startTestControlPlane('mc-local'),
    startTestControlPlane('mc-remote', { waitForControllers: true }),
  ]);
  const agentKubeconfig = await agentIdentity(local.cp);
  await kubectl(local, ['apply', '-k', join(DEPLOY, 'multi-cluster')]);
  for (const on of [local, remote]) await kubectl(on, ['create', 'namespace', NS]);

  await apply(
    local,
    node('cp', locality('region1', 'zone1')),
    service({ trafficDistribution: 'PreferClose' }),
    slice('hw-local', [['10.1.0.1', 'cp']]),
  );
  await apply(
    remote,
    node('cp', locality('region3', 'zone4')),
    node('w2', locality('region2', 'zone3')),
    service(),
    slice('hw-remote', [
      ['10.2.0.1', 'cp'],
      ['10.2.0.2', 'w2'],
    ]),
  );

  // The remote side as nearbyctl create-remote-secret makes it; the Secret applied locally.
  const remoteKc = new KubeConfig();
  remoteKc.loadFromFile(remote.cp.adminKubeconfig);
  const secret = await createRemoteSecret(remoteKc, { name: 'cluster2', namespace: SECRETS_NS });
  cluster2Kubeconfig = (secret.stringData as Record<string, string>)['cluster2']!;
  await kubectl(local, ['apply', '-f', '-'], stringify(secret));

  const kc = new KubeConfig();
  kc.loadFromFile(agentKubeconfig);
  remotes = new RemoteClusters({ kubeConfig: kc, namespace: SECRETS_NS, localCluster: 'cluster1', backoff: BACKOFF, listTimeoutMs: 5_000 });
  source = new MultiClusterSource(new KubernetesSource({ kubeConfig: kc, backoff: BACKOFF }), remotes);
  // As the reconciler does: named changes applied one by one, anything else a rebuild.
  source.onChange((changes) => {
    if (changes) store.apply(changes);
    else store.rebuild(source.objects());
  });
  await source.start();
}, 240_000);

afterAll(async () => {
  try {
    await ifSetUp(source)?.stop();
  } finally {
    await Promise.all([ifSetUp(local)?.stop(), ifSetUp(remote)?.stop()]);
  }
}, 120_000);

describe('a remote cluster through its Secret', () => {
  it('merges the remote endpoints into the local Service, keyed by cluster', async () => {
    await eventually(
      'the remote slice',
      () => store.snapshot.endpointSlices.get(`${NS}/helloworld`)?.length ?? 0,
      (n) => n === 2,
    );
    // Synced once every informer of the cluster has listed: the slice's can merge before the others'.
    await eventually(
      'cluster2 synced',
      () => cluster2()?.synced,
      (synced) => synced === true,
    );
    expect([...store.snapshot.nodes.keys()].filter((n) => !n.startsWith('mc-')).sort()).toEqual(
      expect.arrayContaining(['cluster2/cp', 'cluster2/w2', 'cp']),
    );
    expect(store.snapshot.services.get(`${NS}/helloworld`)?.cluster).toBeUndefined();
    // PreferClose over network, region, zone, subzone: the local cp first, both remote endpoints (other regions) in tier 3.
    expect(tiersOnCp()).toEqual([['10.1.0.1'], [], [], ['10.2.0.1', '10.2.0.2'], [], [], [], []]);
    expect(cluster2()).toMatchObject({ synced: true, secret: `${SECRETS_NS}/istio-remote-secret-cluster2` });
    expect(cluster2()?.stale).toBeUndefined();
    expect(source.status().degraded).toBeUndefined();
  });

  it('a remote node relabelled changes the ranking', async () => {
    await kubectl(remote, [
      'label',
      'node',
      'w2',
      '--overwrite',
      'topology.kubernetes.io/region=region1',
      'topology.kubernetes.io/zone=zone1',
    ]);
    const tiers = await eventually('w2 moved', tiersOnCp, (t) => t[0]?.includes('10.2.0.2') === true);
    expect(tiers).toEqual([['10.1.0.1', '10.2.0.2'], [], [], ['10.2.0.1'], [], [], [], []]);
  });

  it('a malformed Secret is rejected by name while the good one keeps working', async () => {
    await apply(local, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'istio-remote-secret-broken', namespace: SECRETS_NS, labels: { 'istio/multiCluster': 'true' } },
      stringData: { cluster3: 'this is: [not a kubeconfig' },
    });
    const status = await eventually('the problem reported', remoteStatus, (s) => s.problems.length > 0);
    expect(status.problems).toEqual([
      { secret: `${SECRETS_NS}/istio-remote-secret-broken`, cluster: 'cluster3', message: expect.any(String) as string },
    ]);
    expect(source.status().degraded).toMatch(/remote secret istio-system\/istio-remote-secret-broken cluster cluster3 rejected/);
    expect(status.clusters.map((c) => c.cluster)).toEqual(['cluster2']);
    expect(tiersOnCp().flat().sort()).toEqual(['10.1.0.1', '10.2.0.1', '10.2.0.2']);
    await kubectl(local, ['delete', 'secret', '-n', SECRETS_NS, 'istio-remote-secret-broken']);
    await eventually('the problem gone', remoteStatus, (s) => s.problems.length === 0);
  });

  it('a Secret without the istio/multiCluster label is not used, even with good credentials', async () => {
    // The unlabelled Secret first, then a labelled marker: the watch delivers in order, so once the
    // marker's problem is seen, the unlabelled Secret would have been seen too, had it been used.
    await apply(local, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'unlabelled-remote', namespace: SECRETS_NS },
      stringData: { cluster4: cluster2Kubeconfig },
    });
    await apply(local, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'istio-remote-secret-marker', namespace: SECRETS_NS, labels: { 'istio/multiCluster': 'true' } },
      stringData: { marker: 'not: [a kubeconfig' },
    });
    const status = await eventually('the marker seen', remoteStatus, (s) => s.problems.some((p) => p.cluster === 'marker'));
    expect(status.clusters.map((c) => c.cluster)).toEqual(['cluster2']);
    expect(status.problems.map((p) => p.cluster)).toEqual(['marker']);
    expect([...store.snapshot.nodes.keys()].filter((n) => n.startsWith('cluster4/'))).toEqual([]);
    await kubectl(local, ['delete', 'secret', '-n', SECRETS_NS, 'unlabelled-remote', 'istio-remote-secret-marker']);
    await eventually('the marker gone', remoteStatus, (s) => s.problems.length === 0);
  });

  it('a remote API server stopped keeps its last known endpoints and is reported stale, then recovers', async () => {
    await remote.cp.stopApiServer();
    try {
      const stale = await eventually(
        'cluster2 stale',
        () => cluster2()?.stale,
        (s) => s !== undefined,
        30_000,
        100,
      );
      expect(stale).toMatch(/unreachable|ECONNREFUSED|failed/i);
      expect(source.status().degraded).toMatch(/remote cluster cluster2 stale \(last known endpoints kept\)/);
      // A full rebuild (as a resync does) still holds the remote endpoints.
      store.rebuild(source.objects());
      expect(tiersOnCp().flat().sort()).toEqual(['10.1.0.1', '10.2.0.1', '10.2.0.2']);
    } finally {
      await remote.cp.startApiServer();
    }
    await eventually(
      'cluster2 current again',
      () => cluster2()?.stale,
      (s) => s === undefined,
      30_000,
      100,
    );
    await apply(remote, slice('hw-remote', [['10.2.0.3', 'w2']]));
    await eventually('a change after recovery', tiersOnCp, (t) => t.flat().includes('10.2.0.3'));
  });

  it("the remote Secret deleted removes that cluster's endpoints within a second", async () => {
    // Timed from before kubectl starts, so the time includes the deletion request itself.
    const deleted = Date.now();
    await kubectl(local, ['delete', 'secret', '-n', SECRETS_NS, 'istio-remote-secret-cluster2']);
    await eventually('remote endpoints gone', tiersOnCp, (t) => t.flat().length === 1, 5_000, 5);
    const tookMs = Date.now() - deleted;
    console.info(`remote endpoints gone ${tookMs} ms after kubectl delete started`);
    expect(tookMs).toBeLessThan(1_000);
    expect(tiersOnCp().flat()).toEqual(['10.1.0.1']);
    expect([...store.snapshot.nodes.keys()].some((n) => n.startsWith('cluster2/'))).toBe(false);
    expect(remoteStatus().clusters).toEqual([]);
  });
});
