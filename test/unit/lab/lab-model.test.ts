// The lab's pure parts: kind node naming and labels, reading manifests, images, pod names,
// scheduling, EndpointSlices, hosts files, label rules and selectors.
import { describe, expect, it } from 'vitest';
import { jsonpath } from '../../../lab/cli/lab-jsonpath.js';
import { AppliedObjects } from '../../../lab/applied-objects.js';
import { parseDocuments } from '../../../lab/documents.js';
import { endpointSlicesFor } from '../../../lab/endpoint-slices.js';
import { LabError } from '../../../lab/errors.js';
import { hostsFile } from '../../../lab/hosts-file.js';
import { repositoryOf } from '../../../lab/images.js';
import { planCluster } from '../../../lab/kind-config.js';
import { readApplied, type Applied, type PodSpec } from '../../../lab/objects.js';
import { podTemplateHash, randomSuffix } from '../../../lab/pod-names.js';
import { schedule, taintsOf, type CandidateNode } from '../../../lab/pod-scheduling.js';
import { matchesExpression, parseSelector } from '../../../lab/selectors.js';
import type { NodeView, PodView, ServiceView } from '../../../lab/views.js';

const read = (yaml: string, namespace = 'sample'): Applied => {
  const [doc] = parseDocuments(yaml, 'test.yaml');
  return readApplied(doc!.object, doc!.origin, namespace);
};

const DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: hello, image: docker.io/istio/examples-helloworld-v1, ports: [{containerPort: 5000}]}]
      nodeSelector: {kubernetes.io/hostname: lab-worker}
`;

describe('kind Cluster config', () => {
  it('names and labels nodes like kind and the kubelet', () => {
    const plan = planCluster(
      {
        kind: 'Cluster',
        apiVersion: 'kind.x-k8s.io/v1alpha4',
        nodes: [{ role: 'control-plane' }, { role: 'worker' }, { role: 'worker', labels: { tier: 'x' } }, { role: 'worker' }],
      },
      'ambient',
    );
    expect(plan.nodes.map((n) => n.name)).toEqual(['ambient-control-plane', 'ambient-worker', 'ambient-worker2', 'ambient-worker3']);
    expect(plan.nodes[0]?.labels).toMatchObject({
      'kubernetes.io/hostname': 'ambient-control-plane',
      'node-role.kubernetes.io/control-plane': '',
      'kubernetes.io/os': 'linux',
    });
    expect(plan.nodes[1]?.labels['node-role.kubernetes.io/control-plane']).toBeUndefined();
    expect(plan.nodes[2]?.labels['tier']).toBe('x');
  });

  it("defaults to kind's single control-plane node and refuses what it cannot simulate", () => {
    expect(planCluster(undefined, 'solo').nodes.map((n) => n.name)).toEqual(['solo-control-plane']);
    expect(() => planCluster({ apiVersion: 'kind.x-k8s.io/v1alpha3' }, 'x')).toThrow(/not supported/);
    expect(() => planCluster({ apiVersion: 'kind.x-k8s.io/v1alpha4', networking: { podSubnet: '10.1.0.0/24' } }, 'x')).toThrow(/podSubnet/);
    expect(() => planCluster({ apiVersion: 'kind.x-k8s.io/v1alpha4', nodes: [{ role: 'worker' }] }, 'x')).toThrow(/control-plane/);
  });
});

describe('reading manifests', () => {
  it('reads a Deployment with the -n namespace and its template', () => {
    const d = read(DEPLOYMENT);
    expect(d).toMatchObject({ kind: 'Deployment', namespace: 'sample', name: 'web', replicas: 2, selector: { app: 'web' } });
  });

  it('names the workload, the container and the image when the image is unknown', () => {
    expect(() => read(DEPLOYMENT.replace('docker.io/istio/examples-helloworld-v1', 'nginx:1.27'))).toThrow(
      /test\.yaml#1: Deployment sample\/web: spec\.template\.spec\.containers\[0\]\.image: image "nginx:1\.27" is not one the lab can run; it runs: istio\/examples-helloworld-v1/,
    );
  });

  it('rejects a namespace that differs from -n, and a selector that misses the template', () => {
    expect(() => read(DEPLOYMENT.replace('name: web}', 'name: web, namespace: other}'))).toThrow(/does not match the namespace "sample"/);
    expect(() => read(DEPLOYMENT.replace('matchLabels: {app: web}', 'matchLabels: {app: api}'))).toThrow(
      /selector.*does not match template/,
    );
  });

  it('knows images with or without registry, tag and digest', () => {
    expect(repositoryOf('docker.io/istio/examples-helloworld-v1')).toBe('istio/examples-helloworld-v1');
    expect(repositoryOf('istio/examples-helloworld-v2:1.0@sha256:abc')).toBe('istio/examples-helloworld-v2');
    expect(repositoryOf('curlimages/curl')).toBe('curlimages/curl');
    expect(repositoryOf('localhost:5000/curlimages/curl:8.1')).toBe('curlimages/curl');
    expect(repositoryOf('nginx')).toBe('library/nginx');
  });

  it('accepts kinds it does not simulate, and says they are ignored', () => {
    const state = new AppliedObjects(new Map());
    expect(state.apply([read('apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: sleep}\n')])).toEqual([
      'serviceaccount/sleep ignored (the lab does not simulate ServiceAccount)',
    ]);
  });
});

describe('pod names', () => {
  it('hashes a template like Kubernetes prints it: only 4-9, b, c, d, f, and independent of key order', () => {
    const hash = podTemplateHash({ spec: { a: 1, b: [2] }, metadata: { labels: { app: 'x' } } });
    expect(hash).toMatch(/^[4-9bcdf]{1,10}$/);
    expect(podTemplateHash({ metadata: { labels: { app: 'x' } }, spec: { b: [2], a: 1 } })).toBe(hash);
    expect(podTemplateHash({ metadata: { labels: { app: 'y' } }, spec: { b: [2], a: 1 } })).not.toBe(hash);
    expect(randomSuffix()).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  });
});

describe('scheduling', () => {
  const spec = (nodeSelector: Record<string, string> = {}): PodSpec => ({
    containers: [],
    nodeSelector,
    affinityTerms: [],
    tolerations: [],
  });
  const node = (name: string, role: 'control-plane' | 'worker', pods = 0, siblings = 0): CandidateNode => ({
    name,
    labels: { 'kubernetes.io/hostname': name },
    taints: taintsOf(role, true),
    pods,
    siblings,
  });

  it('follows nodeSelector, keeps off the tainted control plane, and spreads replicas', () => {
    const nodes = [node('cp', 'control-plane'), node('w1', 'worker', 2, 1), node('w2', 'worker', 3, 0)];
    expect(schedule(spec({ 'kubernetes.io/hostname': 'w1' }), nodes)).toEqual({ node: 'w1' });
    expect(schedule(spec(), nodes)).toEqual({ node: 'w2' });
    expect(
      schedule({ ...spec(), tolerations: [{ operator: 'Exists' }] }, [node('cp', 'control-plane'), node('w1', 'worker', 1, 1)]),
    ).toEqual({ node: 'cp' });
  });

  it('explains why a pod cannot be placed', () => {
    expect(schedule(spec({ 'kubernetes.io/hostname': 'nowhere' }), [node('cp', 'control-plane'), node('w1', 'worker')])).toEqual({
      unschedulable: "0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector",
    });
  });
});

describe('EndpointSlices', () => {
  const nodes = new Map<string, NodeView>([
    ['w1', { name: 'w1', role: 'worker', labels: { 'topology.kubernetes.io/zone': 'zone1' }, podCidr: '10.244.1.0/24', taints: [] }],
  ]);
  const pod = (name: string, ip: string, extra: Partial<PodView> = {}): PodView => ({
    namespace: 'sample',
    name,
    uid: `uid-${name}`,
    labels: { app: 'hello' },
    rawSpec: {},
    containers: [
      { name: 'c', image: 'i', program: { kind: 'idle' }, env: [], ports: [{ containerPort: 8080, protocol: 'TCP', name: 'web' }] },
    ],
    node: 'w1',
    ip,
    phase: 'Running',
    serving: true,
    terminating: false,
    restarts: 0,
    createdAt: '',
    ...extra,
  });
  const service = (targetPort: number | string): ServiceView => ({
    namespace: 'sample',
    name: 'hello',
    raw: {},
    clusterIP: '10.96.0.50',
    selector: { app: 'hello' },
    ports: [{ name: 'http', port: 80, targetPort, protocol: 'TCP' }],
  });

  it('lists matching pods with node, zone, conditions and the resolved named target port', () => {
    const [slice] = endpointSlicesFor(
      service('web'),
      [pod('b', '10.244.1.10', { terminating: true }), pod('a', '10.244.1.9'), pod('c', '10.244.1.11', { serving: false })],
      nodes,
      () => 'hello-abcde',
    );
    expect(slice).toMatchObject({
      metadata: { name: 'hello-abcde', labels: { 'kubernetes.io/service-name': 'hello' } },
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    });
    expect((slice as { endpoints: unknown[] }).endpoints).toEqual([
      {
        addresses: ['10.244.1.9'],
        conditions: { ready: true, serving: true, terminating: false },
        nodeName: 'w1',
        zone: 'zone1',
        targetRef: { kind: 'Pod', namespace: 'sample', name: 'a', uid: 'uid-a' },
      },
      {
        addresses: ['10.244.1.10'],
        conditions: { ready: false, serving: true, terminating: true },
        nodeName: 'w1',
        zone: 'zone1',
        targetRef: { kind: 'Pod', namespace: 'sample', name: 'b', uid: 'uid-b' },
      },
      {
        addresses: ['10.244.1.11'],
        conditions: { ready: false, serving: false, terminating: false },
        nodeName: 'w1',
        zone: 'zone1',
        targetRef: { kind: 'Pod', namespace: 'sample', name: 'c', uid: 'uid-c' },
      },
    ]);
  });

  it('keeps an empty slice for a Service without endpoints, and none for one without selector', () => {
    expect(endpointSlicesFor(service(5000), [], nodes, () => 'hello-x')).toMatchObject([{ endpoints: [], ports: [{ port: 5000 }] }]);
    expect(endpointSlicesFor({ ...service(5000), selector: undefined }, [pod('a', '10.244.1.9')], nodes, () => 'x')).toEqual([]);
  });
});

describe('hosts files', () => {
  it('resolves Services by short name only in the pod namespace', () => {
    const text = hostsFile(
      { namespace: 'sample', hostname: 'sleep-1', ip: '10.244.1.3' },
      [
        { namespace: 'sample', name: 'helloworld', raw: {}, clusterIP: '10.96.1.1', selector: {}, ports: [] },
        { namespace: 'other', name: 'db', raw: {}, clusterIP: '10.96.1.2', selector: {}, ports: [] },
      ],
      () => [],
    );
    expect(text).toContain('10.244.1.3\tsleep-1\n');
    expect(text).toContain('10.96.1.1\thelloworld.sample.svc.cluster.local helloworld.sample.svc helloworld.sample helloworld\n');
    expect(text).toContain('10.96.1.2\tdb.other.svc.cluster.local db.other.svc db.other\n');
  });
});

describe('desired state', () => {
  const nodes = new Map([['w1', { labels: { 'topology.kubernetes.io/zone': 'zone2' } }]]);

  it('labels like kubectl: an existing different value needs --overwrite; key- removes', () => {
    const state = new AppliedObjects(nodes);
    expect(() => state.label('w1', { 'topology.kubernetes.io/zone': 'zone1' }, false)).toThrow(
      "'topology.kubernetes.io/zone' already has a value (zone2), and --overwrite is false",
    );
    expect(state.label('w1', { 'topology.kubernetes.io/zone': 'zone1' }, true)).toBe('node/w1 labeled');
    expect(state.label('w1', { 'topology.kubernetes.io/zone': 'zone1' }, false)).toBe('node/w1 not labeled');
    expect(state.label('w1', { 'topology.kubernetes.io/zone': null }, false)).toBe('node/w1 labeled');
    expect(nodes.get('w1')?.labels).toEqual({});
    expect(() => state.label('w9', {}, false)).toThrow(LabError);
  });

  it('applies nothing when one object of a batch is wrong', () => {
    const state = new AppliedObjects(nodes);
    expect(() =>
      state.apply([
        read('apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec: {ports: [{port: 80}]}\n', 'default'),
        read(DEPLOYMENT, 'missing'),
      ]),
    ).toThrow(/namespaces "missing" not found/);
    expect(state.services.size).toBe(0);
  });

  it('allocates a VIP in 10.96.0.0/16 and keeps it: clusterIP is immutable', () => {
    const state = new AppliedObjects(nodes);
    state.apply([read('apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec: {ports: [{port: 80}]}\n', 'default')]);
    const vip = state.services.get('default/a')?.clusterIP;
    expect(vip).toMatch(/^10\.96\.\d+\.\d+$/);
    expect(state.apply([read('apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec: {ports: [{port: 80}]}\n', 'default')])).toEqual([
      'service/a unchanged',
    ]);
    expect(() =>
      state.apply([
        read('apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec: {clusterIP: 10.96.9.9, ports: [{port: 80}]}\n', 'default'),
      ]),
    ).toThrow(/immutable/);
  });
});

describe('selectors and jsonpath', () => {
  it('reads -l selectors', () => {
    const [eq, ne, exists, absent] = parseSelector('app=sleep,version!=v2,tier,!canary');
    expect(matchesExpression(eq!, { app: 'sleep' })).toBe(true);
    expect(matchesExpression(ne!, { version: 'v2' })).toBe(false);
    expect(matchesExpression(exists!, { tier: '' })).toBe(true);
    expect(matchesExpression(absent!, { canary: 'y' })).toBe(false);
    expect(() => parseSelector('a in (b)')).toThrow(LabError);
  });

  it("picks what the seed's -o jsonpath picks", () => {
    const list = { items: [{ metadata: { name: 'sleep-1' } }, { metadata: { name: 'sleep-2' } }] };
    expect(jsonpath('{.items[0].metadata.name}', list)).toBe('sleep-1');
    expect(jsonpath('{.items[*].metadata.name}', list)).toBe('sleep-1 sleep-2');
    expect(jsonpath('{.items[5].metadata.name}', list)).toBe('');
  });
});
