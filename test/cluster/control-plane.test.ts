// The lab's real control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler of
// the pinned release): it starts and schedules, the agent's identity from deploy/ gets exactly
// the read access it needs, deploy/ and the samples pass server-side validation, a compacted
// resourceVersion answers 410, the apiserver survives an outage with its data, and stop() ends
// every process. One control plane for the whole file; needs `make control-plane` (fails, never
// skips, when the binaries are missing).
import { type X509Certificate } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { connect } from 'node:tls';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestControlPlane, type TestControlPlane } from './control-plane-fixture.js';
import { agentIdentity, type ControlPlane, type ControlPlaneBinaries } from '../../lab/control-plane/index.js';
import { isRunning, sleep, type ProcessRef } from '../../lab/processes.js';
import { PROJECT_ROOT } from '../../lab/programs.js';
import { apiRequest, loadKubeconfig } from './kube-request.js';
import { ifSetUp } from '../fixtures/if-set-up.js';

const DEPLOY = join(PROJECT_ROOT, 'deploy');
const SAMPLES = join(DEPLOY, 'samples');

let env: TestControlPlane;
let binaries: ControlPlaneBinaries;
let cp: ControlPlane;
let agentKubeconfig: string;
/** Every process the control plane ever reported, restarts included: what afterAll and the last test check. */
let reported: readonly ProcessRef[] = [];

beforeAll(async () => {
  env = await startTestControlPlane('control-plane-test');
  ({ cp, binaries, reported } = env);
  agentKubeconfig = await agentIdentity(cp);
}, 180_000);

afterAll(async () => {
  await ifSetUp(env)?.stop();
}, 60_000);

async function kubectlOk(args: string[], input?: string): Promise<string> {
  const result = await cp.kubectl(args, input);
  expect(result.stderr, `kubectl ${args.join(' ')}`).not.toMatch(/error/i);
  expect(result.code, `kubectl ${args.join(' ')}: ${result.stderr}`).toBe(0);
  return result.stdout;
}

async function getJson<T>(args: string[]): Promise<T> {
  return JSON.parse(await kubectlOk([...args, '-o', 'json'])) as T;
}

async function eventually<T>(what: string, read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() >= deadline)
      throw new Error(`${what} not reached within ${timeoutMs} ms; last seen: ${JSON.stringify(value).slice(0, 2000)}`);
    await sleep(250);
  }
}

/** A watch stream's first event, as far as these tests read it. */
interface WatchEvent {
  type: string;
}

/** A list or an object, as far as these tests read it. */
interface Versioned {
  metadata: { resourceVersion: string };
}

interface PodList {
  items: Array<{
    metadata: { name: string };
    spec: { nodeName?: string };
    status: { phase: string; conditions?: Array<{ type: string; status: string; reason?: string }> };
  }>;
}

/** The apiserver's certificate as served, after a handshake that verified it for `servername`. */
function servedCertificate(servername: string): Promise<X509Certificate> {
  const url = new URL(cp.server);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: url.hostname, port: Number(url.port), servername, ca: readFileSync(cp.caFile) }, () => {
      resolve(socket.getPeerX509Certificate()!);
      socket.end();
    });
    socket.on('error', reject);
  });
}

const readyNode = (name: string) => ({
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name, labels: { 'kubernetes.io/hostname': name } },
  spec: {},
  // Nodes, unlike most kinds, keep the status they are created with: this stands in for a kubelet.
  status: {
    capacity: { cpu: '4', memory: '8Gi', pods: '110' },
    allocatable: { cpu: '4', memory: '8Gi', pods: '110' },
    conditions: [
      {
        type: 'Ready',
        status: 'True',
        reason: 'KubeletReady',
        message: 'test node',
        lastHeartbeatTime: new Date().toISOString(),
        lastTransitionTime: new Date().toISOString(),
      },
    ],
  },
});

describe('control plane', () => {
  it('runs the pinned release and schedules a Deployment onto a Node once one exists', async () => {
    const version = await getJson<{ serverVersion: { gitVersion: string } }>(['version']);
    expect(version.serverVersion.gitVersion).toBe(binaries.version);
    expect(binaries.version).toBe('v1.36.3');

    // Pods reach the apiserver as the `kubernetes` Service: its address and names must be in the
    // certificate the apiserver serves.
    const kubernetes = await getJson<{ spec: { clusterIP: string } }>(['get', 'service', 'kubernetes', '-n', 'default']);
    expect(kubernetes.spec.clusterIP).toBe('10.96.0.1');
    const served = await servedCertificate('kubernetes.default.svc.cluster.local');
    expect(served.checkIP(kubernetes.spec.clusterIP)).toBe(kubernetes.spec.clusterIP);
    expect(served.checkIP('127.0.0.1')).toBe('127.0.0.1');

    await kubectlOk(['create', 'namespace', 'sched']);
    const created = performance.now();
    await kubectlOk(['create', 'deployment', 'web', '-n', 'sched', '--image=registry.k8s.io/pause:3.10', '--replicas=2']);
    // The controller manager turns it into a ReplicaSet and Pods; the scheduler finds nowhere to put them.
    const replicaSets = await eventually(
      'a ReplicaSet for deployment/web',
      () =>
        getJson<{ items: Array<{ metadata: { ownerReferences?: Array<{ kind: string; name: string }> } }> }>([
          'get',
          'replicasets',
          '-n',
          'sched',
        ]),
      (list) => list.items.length === 1,
    );
    expect(replicaSets.items[0]!.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'Deployment', name: 'web' });
    const pending = await eventually(
      'two unschedulable Pods',
      () => getJson<PodList>(['get', 'pods', '-n', 'sched']),
      (list) =>
        list.items.length === 2 &&
        list.items.every((pod) => pod.status.conditions?.some((c) => c.type === 'PodScheduled' && c.reason === 'Unschedulable')),
    );
    for (const pod of pending.items) {
      expect(pod.status.phase).toBe('Pending');
      expect(pod.spec.nodeName).toBeUndefined();
    }

    const unschedulableMs = performance.now() - created;
    const nodeCreated = performance.now();
    await kubectlOk(['create', '-f', '-'], JSON.stringify(readyNode('worker-a')));
    const bound = await eventually(
      'both Pods bound to worker-a',
      () => getJson<PodList>(['get', 'pods', '-n', 'sched']),
      (list) => list.items.length === 2 && list.items.every((pod) => pod.spec.nodeName !== undefined),
    );
    expect(bound.items.map((pod) => pod.spec.nodeName)).toEqual(['worker-a', 'worker-a']);
    console.info(
      `Deployment to unschedulable Pods in ${Math.round(unschedulableMs)} ms, Node to bound Pods in ${Math.round(performance.now() - nodeCreated)} ms`,
    );
  });

  describe("the agent's identity (deploy/rbac.yaml)", () => {
    const probes = { namespace: 'rbac-probe', name: 'rbac-probe' };
    const kinds = [
      {
        kind: 'nodes',
        collection: '/api/v1/nodes',
        item: `/api/v1/nodes/${probes.name}`,
        body: { apiVersion: 'v1', kind: 'Node', metadata: { name: 'made-by-agent' } },
      },
      {
        kind: 'namespaces',
        collection: '/api/v1/namespaces',
        item: `/api/v1/namespaces/${probes.namespace}`,
        body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'made-by-agent' } },
      },
      {
        kind: 'services',
        collection: `/api/v1/namespaces/${probes.namespace}/services`,
        item: `/api/v1/namespaces/${probes.namespace}/services/${probes.name}`,
        body: { apiVersion: 'v1', kind: 'Service', metadata: { name: 'made-by-agent' }, spec: { ports: [{ port: 80 }] } },
      },
      {
        kind: 'endpointslices',
        collection: `/apis/discovery.k8s.io/v1/namespaces/${probes.namespace}/endpointslices`,
        item: `/apis/discovery.k8s.io/v1/namespaces/${probes.namespace}/endpointslices/${probes.name}`,
        body: {
          apiVersion: 'discovery.k8s.io/v1',
          kind: 'EndpointSlice',
          metadata: { name: 'made-by-agent' },
          addressType: 'IPv4',
          endpoints: [],
        },
      },
    ];
    const clusterWide: Record<string, string> = {
      nodes: '/api/v1/nodes',
      namespaces: '/api/v1/namespaces',
      services: '/api/v1/services',
      endpointslices: '/apis/discovery.k8s.io/v1/endpointslices',
    };

    beforeAll(async () => {
      // Objects of every kind for the agent to read and (unsuccessfully) change, made as admin.
      await kubectlOk(['create', 'namespace', probes.namespace]);
      await kubectlOk(['create', '-f', '-'], JSON.stringify(readyNode(probes.name)));
      await kubectlOk(['create', 'service', 'clusterip', probes.name, '-n', probes.namespace, '--tcp=80:8080']);
      await kubectlOk(
        ['create', '-n', probes.namespace, '-f', '-'],
        JSON.stringify({
          apiVersion: 'discovery.k8s.io/v1',
          kind: 'EndpointSlice',
          metadata: { name: probes.name },
          addressType: 'IPv4',
          endpoints: [],
        }),
      );
      await kubectlOk(['create', 'secret', 'generic', probes.name, '-n', probes.namespace, '--from-literal=k=v']);
    });

    it('lists, watches and gets nodes, services, endpointslices and namespaces', async () => {
      const agent = loadKubeconfig(agentKubeconfig);
      expect(agent.getCurrentUser()?.token, 'the agent authenticates with its ServiceAccount token, not a certificate').toBeTruthy();
      for (const { kind, collection, item } of kinds) {
        for (const path of [clusterWide[kind]!, collection]) {
          const list = await apiRequest(agent, 'GET', path);
          expect(list.status, `list ${path}: ${list.body}`).toBe(200);
          expect((JSON.parse(list.body) as { items: unknown[] }).items.length, `list ${path}`).toBeGreaterThan(0);
          const watch = await apiRequest(agent, 'GET', `${path}?watch=1&timeoutSeconds=1`);
          expect(watch.status, `watch ${path}: ${watch.body}`).toBe(200);
          expect((JSON.parse(watch.body) as WatchEvent).type, `watch ${path} starts with the existing objects`).toBe('ADDED');
        }
        const get = await apiRequest(agent, 'GET', item);
        expect(get.status, `get ${item}: ${get.body}`).toBe(200);
      }
    });

    it('is refused (403) secrets, pods and every write to the kinds it reads', async () => {
      const agent = loadKubeconfig(agentKubeconfig);
      const refused: Array<{ method: string; path: string; body: unknown }> = [
        ['GET', `/api/v1/namespaces/${probes.namespace}/secrets/${probes.name}`],
        ['GET', `/api/v1/namespaces/${probes.namespace}/secrets`],
        ['GET', '/api/v1/secrets'],
        ['GET', '/api/v1/pods'],
        ['GET', `/api/v1/namespaces/${probes.namespace}/pods`],
        ['GET', '/api/v1/pods?watch=1&timeoutSeconds=1'],
      ].map(([method, path]) => ({ method: method!, path: path!, body: undefined }));
      for (const { collection, item, body } of kinds) {
        refused.push({ method: 'POST', path: collection, body });
        refused.push({ method: 'PATCH', path: item, body: { metadata: { labels: { 'patched-by': 'agent' } } } });
        refused.push({ method: 'DELETE', path: item, body: undefined });
      }
      for (const { method, path, body } of refused) {
        const answer = await apiRequest(agent, method, path, body);
        expect(answer.status, `${method} ${path}: ${answer.body}`).toBe(403);
        expect(JSON.parse(answer.body)).toMatchObject({ kind: 'Status', reason: 'Forbidden', code: 403 });
      }
      // The refused writes changed nothing.
      const node = await getJson<{ metadata: { labels?: Record<string, string> } }>(['get', 'node', probes.name]);
      expect(node.metadata.labels?.['patched-by']).toBeUndefined();
      await kubectlOk(['get', 'service', probes.name, '-n', probes.namespace]);
    });
  });

  it('accepts deploy/ (kustomize) and the samples in a server-side dry run', async () => {
    const base = await kubectlOk(['apply', '--dry-run=server', '-k', DEPLOY]);
    for (const object of [
      'namespace/nearby-system',
      'serviceaccount/nearby-agent',
      'clusterrole.rbac.authorization.k8s.io/nearby-agent',
      'clusterrolebinding.rbac.authorization.k8s.io/nearby-agent',
    ]) {
      expect(base).toMatch(new RegExp(`^${object.replaceAll('.', '\\.')} .*\\(server dry run\\)$`, 'm'));
    }

    // kind-cluster.yaml configures kind itself; it is not a Kubernetes API object.
    const samples = readdirSync(SAMPLES).filter((file) => file.endsWith('.yaml') && file !== 'kind-cluster.yaml');
    expect(samples.length).toBe(7);
    await kubectlOk(['create', 'namespace', 'sample']);
    const applied = await kubectlOk([
      'apply',
      '--dry-run=server',
      '-n',
      'sample',
      ...samples.flatMap((file) => ['-f', join(SAMPLES, file)]),
    ]);
    const lines = applied.trim().split('\n');
    expect(lines.length).toBe(samples.length);
    for (const line of lines) expect(line).toMatch(/^(deployment\.apps|service)\/\S+ (created|configured|unchanged) \(server dry run\)$/);
    // Dry run: nothing was stored.
    expect((await getJson<{ items: unknown[] }>(['get', 'deployments,services', '-n', 'sample'])).items).toEqual([]);
  });

  it('answers a watch from a compacted resourceVersion with 410 Gone', async () => {
    const admin = loadKubeconfig(cp.adminKubeconfig);
    const watchFrom = (resourceVersion: string) =>
      apiRequest(admin, 'GET', `/api/v1/nodes?watch=1&resourceVersion=${resourceVersion}&timeoutSeconds=1`);
    await kubectlOk(['create', '-f', '-'], JSON.stringify(readyNode('compact-probe')));
    const older = (JSON.parse((await apiRequest(admin, 'GET', '/api/v1/nodes')).body) as Versioned).metadata.resourceVersion;
    // The newest resourceVersion a client can hold: that of its own last write.
    const labelled = await apiRequest(admin, 'PATCH', '/api/v1/nodes/compact-probe', { metadata: { labels: { moved: 'on' } } });
    expect(labelled.status).toBe(200);
    const newest = (JSON.parse(labelled.body) as Versioned).metadata.resourceVersion;

    // Before compaction both are servable: the 410s below are compaction's doing.
    for (const resourceVersion of [older, newest]) {
      const before = await watchFrom(resourceVersion);
      expect(before.status, `watch from ${resourceVersion} before compaction`).toBe(200);
      if (before.body !== '')
        expect((JSON.parse(before.body) as WatchEvent).type, `watch from ${resourceVersion} before compaction`).toMatch(
          /^(ADDED|MODIFIED)$/,
        );
    }

    const revision = await cp.compactEtcd();
    expect(revision).toBeGreaterThan(Number(newest));
    for (const resourceVersion of [older, newest]) {
      const after = await watchFrom(resourceVersion);
      const what = `watch from ${resourceVersion} after compaction to ${revision}: HTTP ${after.status} ${after.body}`;
      // The apiserver may refuse the request or, having accepted it, end it with an ERROR event.
      if (after.status === 200)
        expect(JSON.parse(after.body), what).toMatchObject({ type: 'ERROR', object: { reason: 'Expired', code: 410 } });
      else expect(after.status, what).toBe(410);
    }

    // A current resourceVersion still watches normally.
    const current = (JSON.parse((await apiRequest(admin, 'GET', '/api/v1/nodes')).body) as Versioned).metadata.resourceVersion;
    const fresh = await watchFrom(current);
    expect(fresh.status).toBe(200);
    // Quiet, or a controller's update of a node; never an error.
    if (fresh.body !== '') expect((JSON.parse(fresh.body) as WatchEvent).type).not.toBe('ERROR');
  });

  it('comes back from an apiserver outage on the same URL with its objects', async () => {
    const admin = loadKubeconfig(cp.adminKubeconfig);
    const server = cp.server;
    const before = cp.refs()['kube-apiserver']!;
    const stopStarted = performance.now();
    await cp.stopApiServer();
    const stopMs = performance.now() - stopStarted;
    expect(isRunning(before)).toBe(false);
    await expect(apiRequest(admin, 'GET', '/readyz'), 'nothing answers during the outage').rejects.toThrow(/ECONNREFUSED/);

    const startStarted = performance.now();
    await cp.startApiServer();
    const startMs = performance.now() - startStarted;
    console.info(`apiserver outage: stopped in ${Math.round(stopMs)} ms, back (readyz) in ${Math.round(startMs)} ms`);
    expect(cp.server).toBe(server);
    expect(cp.refs()['kube-apiserver']!.pid).not.toBe(before.pid);
    expect(await apiRequest(admin, 'GET', '/readyz')).toEqual({ status: 200, body: 'ok' });
    const nodes = await getJson<{ items: Array<{ metadata: { name: string } }> }>(['get', 'nodes']);
    expect(nodes.items.map((node) => node.metadata.name).sort()).toEqual(['compact-probe', 'rbac-probe', 'worker-a']);
    expect((await getJson<PodList>(['get', 'pods', '-n', 'sched'])).items.map((pod) => pod.spec.nodeName)).toEqual([
      'worker-a',
      'worker-a',
    ]);
    // The agent's token (signed before the outage) is still accepted.
    expect((await apiRequest(loadKubeconfig(agentKubeconfig), 'GET', '/api/v1/nodes')).status).toBe(200);
  });

  it('stop() ends every process it started', async () => {
    const refs = cp.refs();
    expect(Object.keys(refs).sort()).toEqual(['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler']);
    for (const [component, ref] of Object.entries(refs)) expect(isRunning(ref), `${component} runs before stop()`).toBe(true);
    const started = performance.now();
    await cp.stop();
    console.info(`control plane stopped in ${Math.round(performance.now() - started)} ms`);
    for (const [component, ref] of Object.entries(refs)) expect(isRunning(ref), `${component} (pid ${ref.pid}) after stop()`).toBe(false);
    expect(reported.filter(isRunning), 'every process ever reported, restarts included').toEqual([]);
  });
});
