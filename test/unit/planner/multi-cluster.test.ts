// Remote clusters in the model and the planner (docs/multi-cluster.md): merging by Service
// sameness, node names qualified by cluster, the cluster label, networks, and seed 004's layout.
import { describe, expect, it } from 'vitest';
import { buildSnapshot, inCluster, keepReadFields, keepRemoteReadFields, SnapshotStore } from '../../../pkg/model/index.js';
import { explainEndpoint, plan } from '../../../pkg/planner/index.js';
import { localityRule } from './dr-fixtures.js';
import { ep, namespace, node, planFor, plannedService, service, slice, snapshotOf, tierAddresses, tiers } from './fixtures.js';

const remote = (cluster: string, objects: unknown[]): unknown[] => [inCluster(cluster, objects)];

/** Seed 004: cluster1 (local) has cp in region1/zone1 and worker in region1/zone2; cluster2 has region2/zone3, region3/zone4 and an unlabelled worker2. */
function seed004(): unknown[] {
  return [
    node('cp', { region: 'region1', zone: 'zone1' }),
    node('worker', { region: 'region1', zone: 'zone2' }),
    service('helloworld'),
    slice('hw-local', { service: 'helloworld', endpoints: [ep('10.1.0.1', 'cp'), ep('10.1.0.2', 'worker')] }),
    ...remote('cluster2', [
      node('cp', { region: 'region2', zone: 'zone3' }),
      node('worker', { region: 'region3', zone: 'zone4' }),
      node('worker2'),
      service('helloworld', { clusterIP: '10.96.9.9' }),
      slice('hw-local', { service: 'helloworld', endpoints: [ep('10.2.0.1', 'cp'), ep('10.2.0.2', 'worker'), ep('10.2.0.3', 'worker2')] }),
    ]),
  ];
}

describe('remote clusters in the snapshot', () => {
  it('keys remote nodes and slices by cluster, so equal names in two clusters never collide', () => {
    const snapshot = snapshotOf(seed004());
    expect([...snapshot.nodes.keys()].sort()).toEqual(['cluster2/cp', 'cluster2/worker', 'cluster2/worker2', 'cp', 'worker']);
    expect(snapshot.nodes.get('cluster2/cp')).toMatchObject({ cluster: 'cluster2', labels: { 'topology.kubernetes.io/zone': 'zone3' } });
    expect(snapshot.nodes.get('cp')?.cluster).toBeUndefined();
    const slices = snapshot.endpointSlices.get('sample/helloworld') ?? [];
    expect(slices.map((s) => [s.cluster, s.name])).toEqual([
      ['cluster2', 'hw-local'],
      [undefined, 'hw-local'],
    ]);
    const remoteEndpoint = slices[0]!.endpoints[0]!;
    expect(remoteEndpoint).toMatchObject({ nodeName: 'cluster2/cp', cluster: 'cluster2' });
  });

  it('one Service per namespace/name: the VIP is the local ClusterIP, endpoints from every cluster', () => {
    const result = planFor(seed004(), 'cp');
    const planned = plannedService(result);
    expect(planned.entries.map((e) => e.vip)).toEqual(['10.96.0.100']);
    const all = planned.entries[0]!.tiers.flatMap((t) => t.endpoints);
    expect(all.map((e) => [e.address, e.node]).sort()).toEqual([
      ['10.1.0.1', 'cp'],
      ['10.1.0.2', 'worker'],
      ['10.2.0.1', 'cluster2/cp'],
      ['10.2.0.2', 'cluster2/worker'],
      ['10.2.0.3', 'cluster2/worker2'],
    ]);
  });

  it('default ranking is unchanged: a remote endpoint ranks by its node locality, never as this node', () => {
    const withPolicy = (spec: Parameters<typeof service>[1]): unknown[] =>
      seed004().map((o, i) => (i === 2 ? service('helloworld', spec) : o));
    expect(tierAddresses(planFor(withPolicy({ trafficDistribution: 'PreferClose' }), 'cp'))).toEqual(
      tiers(8, { 0: ['10.1.0.1'], 2: ['10.1.0.2'], 3: ['10.2.0.1', '10.2.0.2', '10.2.0.3'] }),
    );
    // cluster2's cp shares the client node's name but is another node.
    expect(tierAddresses(planFor(withPolicy({ internalTrafficPolicy: 'Local' }), 'cp'))).toEqual([['10.1.0.1']]);
    expect(tierAddresses(planFor(seed004(), 'cp'))).toEqual([['10.1.0.1', '10.1.0.2', '10.2.0.1', '10.2.0.2', '10.2.0.3']]);
  });

  it('a Service that exists only remotely has no VIP: skipped, not an error, and explain says so', () => {
    const objects = [
      node('cp'),
      ...remote('cluster2', [node('w'), service('only-there'), slice('x', { service: 'only-there', endpoints: [ep('10.2.0.9', 'w')] })]),
    ];
    const snapshot = snapshotOf(objects);
    expect(snapshot.services.get('sample/only-there')).toMatchObject({ cluster: 'cluster2', clusterIPs: [] });
    const result = plan(snapshot, 'cp');
    expect(result.services).toEqual([]);
    expect(result.skipped).toEqual([
      { service: 'sample/only-there', reason: expect.stringContaining('exists only in remote cluster cluster2') as string },
    ]);
    expect(result.warnings).toEqual([]);
    const why = explainEndpoint(snapshot, 'cp', 'sample/only-there', '10.2.0.9');
    expect(why.lines[0]).toMatch(/not intercepted: exists only in remote cluster cluster2 .*no local ClusterIP/);
  });

  it('Namespaces and DestinationRules come from the local cluster only', () => {
    const rule = localityRule('off', 'helloworld', { enabled: false });
    const snapshot = snapshotOf([
      ...seed004(),
      ...remote('cluster2', [rule, namespace('sample', { 'networking.istio.io/traffic-distribution': 'PreferClose' })]),
    ]);
    expect(snapshot.destinationRules.size).toBe(0);
    expect(snapshot.namespaces.size).toBe(0);
  });

  it('a malformed remote object is rejected by name and cluster; the rest of that cluster is kept', () => {
    const bad = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'broken', labels: { a: 1 } } };
    const { snapshot, rejected } = buildSnapshot([...seed004(), ...remote('cluster2', [bad])]);
    expect(rejected).toEqual([expect.objectContaining({ kind: 'Node', name: 'cluster2/broken', cluster: 'cluster2', code: 'wrong-type' })]);
    expect(snapshot.nodes.has('cluster2/worker')).toBe(true);
  });
});

describe('locality across clusters', () => {
  it('failoverPriority may name topology.istio.io/cluster: the local cluster first', () => {
    const rule = localityRule('by-cluster', 'helloworld', { failoverPriority: ['topology.istio.io/cluster'] });
    expect(tierAddresses(planFor([...seed004(), rule], 'cp'))).toEqual([
      ['10.1.0.1', '10.1.0.2'],
      ['10.2.0.1', '10.2.0.2', '10.2.0.3'],
    ]);
    const named = localityRule('to-c2', 'helloworld', { failoverPriority: ['topology.istio.io/cluster=cluster2'] });
    expect(tierAddresses(planFor([...seed004(), named], 'cp'))).toEqual([
      ['10.2.0.1', '10.2.0.2', '10.2.0.3'],
      ['10.1.0.1', '10.1.0.2'],
    ]);
    const local = localityRule('to-c1', 'helloworld', { failoverPriority: ['topology.istio.io/cluster=cluster1'] });
    expect(tierAddresses(planFor([...seed004(), local], 'cp', { localCluster: 'cluster1' }))[0]).toEqual(['10.1.0.1', '10.1.0.2']);
  });

  it("distribute spans clusters by locality: seed 004's 70/20/10 reaches region3/zone4 in cluster2", () => {
    const rule = localityRule('seed-004', 'helloworld', {
      distribute: [{ from: 'region1/zone1/*', to: { 'region1/zone1/*': 70, 'region1/zone2/*': 20, 'region3/zone4/*': 10 } }],
    });
    const result = planFor([...seed004(), rule], 'cp');
    expect(plannedService(result)).toMatchObject({ mode: 'WEIGHTED', weights: [70, 20, 10] });
    expect(tierAddresses(result)).toEqual([['10.1.0.1'], ['10.1.0.2'], ['10.2.0.2']]);
  });

  it('a remote node relabelled moves its endpoints', () => {
    const rule = localityRule('seed-004', 'helloworld', {
      distribute: [{ from: 'region1/zone1/*', to: { 'region1/zone1/*': 90, 'region3/zone4/*': 10 } }],
    });
    const store = new SnapshotStore();
    store.rebuild([...seed004(), rule]);
    expect(plan(store.snapshot, 'cp').services[0]!.entries[0]!.tiers.map((t) => t.endpoints.map((e) => e.address))).toEqual([
      ['10.1.0.1'],
      ['10.2.0.2'],
    ]);
    const delta = store.apply([
      {
        kind: 'Node',
        name: 'worker2',
        cluster: 'cluster2',
        object: node('worker2', { region: 'region3', zone: 'zone4' }),
      },
    ]);
    expect([...delta.nodes]).toEqual(['cluster2/worker2']);
    expect([...store.servicesOnNode('cluster2/worker2')]).toEqual(['sample/helloworld']);
    expect(plan(store.snapshot, 'cp').services[0]!.entries[0]!.tiers.map((t) => t.endpoints.map((e) => e.address))).toEqual([
      ['10.1.0.1'],
      ['10.2.0.2', '10.2.0.3'],
    ]);
  });
});

describe('networks', () => {
  const objects = (clientNetwork: string | undefined, remoteNetwork: string | undefined): unknown[] => [
    node('cp', { region: 'r', ...(clientNetwork !== undefined ? { network: clientNetwork } : {}) }),
    service('helloworld'),
    slice('hw', { service: 'helloworld', endpoints: [ep('10.1.0.1', 'cp')] }),
    ...remote('c2', [
      node('w', { region: 'r', ...(remoteNetwork !== undefined ? { network: remoteNetwork } : {}) }),
      slice('hw', { service: 'helloworld', endpoints: [ep('10.2.0.1', 'w')] }),
    ]),
  ];

  it.each([
    ['both unset', undefined, undefined],
    ['equal', 'net1', 'net1'],
  ])('remote endpoints on the same network (%s) are dialled directly', (_, mine, theirs) => {
    const result = planFor(objects(mine, theirs), 'cp');
    expect(tierAddresses(result)).toEqual([['10.1.0.1', '10.2.0.1']]);
    expect(result.warnings).toEqual([]);
  });

  it.each([
    ['different', 'net1', 'net2'],
    ['only the remote set', undefined, 'net2'],
  ])('remote endpoints on another network (%s) are skipped with a warning', (_, mine, theirs) => {
    const snapshot = snapshotOf(objects(mine, theirs));
    const result = plan(snapshot, 'cp');
    expect(tierAddresses(result)).toEqual([['10.1.0.1']]);
    expect(result.warnings).toEqual([
      expect.objectContaining({ code: 'remote-other-network', kind: 'EndpointSlice', name: 'c2/sample/hw' }),
    ]);
    const why = explainEndpoint(snapshot, 'cp', 'sample/helloworld', '10.2.0.1');
    expect(why.placements).toEqual([]);
    expect(why.lines.join('\n')).toMatch(/remote cluster c2 endpoint on network "net2".*skipped/);
  });

  it('local endpoints on another network are kept, ranked network-first as before', () => {
    const result = planFor(
      [
        node('cp', { region: 'r', network: 'net1' }),
        node('far', { region: 'r', network: 'net2' }),
        service('helloworld', { trafficDistribution: 'PreferClose' }),
        slice('hw', { service: 'helloworld', endpoints: [ep('10.1.0.1', 'cp'), ep('10.1.0.2', 'far')] }),
      ],
      'cp',
    );
    expect(tierAddresses(result).flat()).toEqual(['10.1.0.1', '10.1.0.2']);
    expect(result.warnings).toEqual([]);
  });
});

describe('the store with remote clusters', () => {
  it('applying remote changes gives what a rebuild gives, and the local Service wins sameness', () => {
    const store = new SnapshotStore();
    store.rebuild([node('cp'), service('helloworld')]);
    const remoteService = service('helloworld', { clusterIP: '10.96.9.9' });
    let delta = store.apply([{ kind: 'Service', name: 'sample/helloworld', cluster: 'c2', object: remoteService }]);
    expect(delta.services.size).toBe(0);
    expect(store.snapshot.services.get('sample/helloworld')?.cluster).toBeUndefined();

    delta = store.apply([{ kind: 'Service', name: 'sample/helloworld', object: undefined }]);
    expect([...delta.services]).toEqual(['sample/helloworld']);
    expect(store.snapshot.services.get('sample/helloworld')).toMatchObject({ cluster: 'c2', clusterIPs: [] });

    const remoteSlice = slice('hw', { service: 'helloworld', endpoints: [ep('10.2.0.1', 'cp')] });
    store.apply([{ kind: 'EndpointSlice', name: 'sample/hw', cluster: 'c2', object: remoteSlice }]);
    expect([...store.servicesOnNode('c2/cp')]).toEqual(['sample/helloworld']);
    expect([...store.servicesOnNode('cp')]).toEqual([]);

    const rebuilt = new SnapshotStore();
    rebuilt.rebuild([node('cp'), inCluster('c2', [remoteService, remoteSlice])]);
    expect(rebuilt.snapshot.services).toEqual(store.snapshot.services);
    expect(rebuilt.snapshot.endpointSlices).toEqual(store.snapshot.endpointSlices);

    // A whole cluster gone (its Secret deleted): a rebuild without its objects drops its endpoints.
    delta = store.rebuild([node('cp')]);
    expect([...delta.services]).toEqual(['sample/helloworld']);
    expect(store.snapshot.endpointSlices.size).toBe(0);
    expect(store.snapshot.services.size).toBe(0);
  });
});

describe('what a remote cluster cache keeps (keepRemoteReadFields)', () => {
  const trimmed = (cluster: string, objects: unknown[]): unknown[] => remote(cluster, objects.map(keepRemoteReadFields));
  const withAnnotation = (raw: unknown): unknown => {
    const o = raw as { metadata: Record<string, unknown> };
    return { ...o, metadata: { ...o.metadata, annotations: { 'node.alpha.kubernetes.io/ttl': '0' } } };
  };

  it('keeps less of remote Services and Nodes, and the snapshot is the same as from whole objects', () => {
    const cluster2 = (): unknown[] => [
      withAnnotation(node('cp', { region: 'region2', zone: 'zone3' })),
      node('worker', { region: 'region3', zone: 'zone4' }),
      service('helloworld', { clusterIP: '10.96.9.9', trafficDistribution: 'PreferClose' }),
      service('only-there'),
      slice('hw', { service: 'helloworld', endpoints: [ep('10.2.0.1', 'cp'), ep('10.2.0.2', 'worker')] }),
    ];
    const local = seed004().slice(0, 4);
    const kept = keepRemoteReadFields(service('helloworld', { clusterIP: '10.96.9.9' })) as Record<string, unknown>;
    expect(kept).toEqual({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'helloworld', namespace: 'sample' } });
    const keptNode = keepRemoteReadFields(cluster2()[0]) as { metadata: Record<string, unknown> };
    expect(keptNode.metadata['annotations']).toBeUndefined();
    const whole = buildSnapshot([...local, ...remote('cluster2', cluster2())]);
    const less = buildSnapshot([...local, ...trimmed('cluster2', cluster2())]);
    expect(less.snapshot).toEqual(whole.snapshot);
    expect(less.rejected).toEqual(whole.rejected);
    expect(plan(less.snapshot, 'cp')).toEqual(plan(whole.snapshot, 'cp'));
  });

  it('a remote Service the model refuses is kept whole, so it is still rejected with the same message', () => {
    const bad = service('helloworld', { clusterIP: 'not-an-ip' });
    expect(keepRemoteReadFields(bad)).toEqual(keepReadFields(bad));
    const whole = buildSnapshot([...seed004(), ...remote('cluster3', [bad])]);
    const less = buildSnapshot([...seed004(), ...trimmed('cluster3', [bad])]);
    expect(less.rejected).toEqual([expect.objectContaining({ kind: 'Service', name: 'cluster3/sample/helloworld', code: 'bad-ip' })]);
    expect(less.rejected).toEqual(whole.rejected);
  });
});

describe('the store indexes slices by cluster', () => {
  it('a remote slice deleted by name leaves the local slice of the same name, and the reverse', () => {
    const store = new SnapshotStore();
    const local = slice('hw', { service: 'helloworld', endpoints: [ep('10.1.0.1', 'cp')] });
    const there = slice('hw', { service: 'helloworld', endpoints: [ep('10.2.0.1', 'cp')] });
    const [cp, hw, theirCp] = [node('cp'), service('helloworld'), node('cp')];
    store.rebuild([cp, hw, local, inCluster('c2', [theirCp, there])]);
    const clusters = (): Array<string | undefined> => (store.snapshot.endpointSlices.get('sample/helloworld') ?? []).map((s) => s.cluster);
    expect(clusters()).toEqual(['c2', undefined]);

    let delta = store.apply([{ kind: 'EndpointSlice', name: 'sample/hw', cluster: 'c2', object: undefined }]);
    expect([...delta.services]).toEqual(['sample/helloworld']);
    expect(clusters()).toEqual([undefined]);
    expect([...store.servicesOnNode('c2/cp')]).toEqual([]);
    expect([...store.servicesOnNode('cp')]).toEqual(['sample/helloworld']);

    store.apply([{ kind: 'EndpointSlice', name: 'sample/hw', cluster: 'c2', object: there }]);
    delta = store.apply([{ kind: 'EndpointSlice', name: 'sample/hw', object: undefined }]);
    expect([...delta.services]).toEqual(['sample/helloworld']);
    expect(clusters()).toEqual(['c2']);
    expect([...store.servicesOnNode('cp')]).toEqual([]);

    // A rebuild from the same objects finds nothing changed.
    delta = store.rebuild([cp, hw, inCluster('c2', [theirCp, there])]);
    expect(delta.services.size).toBe(0);
  });
});
