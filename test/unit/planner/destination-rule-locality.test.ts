// localityLbSetting's forms as tiers, SEMANTICS.md conformance cases 11-15 at the plan level,
// and the DestinationRules of seeds 001 and 003 as written.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildSnapshot } from '../../../pkg/model/index.js';
import { parseManifest } from '../../../pkg/source/index.js';
import { destinationRule, localityRule } from './dr-fixtures.js';
import { ep, node, planFor, plannedService, POD, seedEndpoints, seedNodes, service, slice, tierAddresses, tiers } from './fixtures.js';

const hw = (endpoints = seedEndpoints(), spec = {}) => [service('helloworld', spec), slice('hw-1', { service: 'helloworld', endpoints })];

describe('localityLbSetting forms', () => {
  it('enabled: false is one RANDOM tier, even over trafficDistribution', () => {
    const result = planFor(
      [...seedNodes(), ...hw(undefined, { trafficDistribution: 'PreferClose' }), localityRule('off', 'helloworld', { enabled: false })],
      'w1',
    );
    expect(plannedService(result).mode).toBe('RANDOM');
    expect(tierAddresses(result)).toEqual([[POD.w1, POD.w2, POD.w3]]);
  });

  it("nothing but enabled is Istio's default: FAILOVER over network, region, zone, subzone", () => {
    const result = planFor([...seedNodes(), ...hw(), localityRule('on', 'helloworld', { enabled: true })], 'w1');
    expect(plannedService(result).scopes).toEqual(['network', 'region', 'zone', 'subzone']);
    expect(tierAddresses(result)).toEqual(tiers(8, { 0: [POD.w1], 1: [POD.w2], 2: [POD.w3] }));
  });

  it('failover puts the to region after the client region and before the others; other networks last', () => {
    const nodes = [
      node('c', { region: 'r1', zone: 'z1' }),
      node('a', { region: 'r1', zone: 'z2' }),
      node('b', { region: 'r3', zone: 'z3' }),
      node('t', { region: 'r2', zone: 'z4' }),
      node('n', { region: 'r2', zone: 'z4', network: 'far' }),
    ];
    const endpoints = [ep('10.0.0.1', 'c'), ep('10.0.0.2', 'a'), ep('10.0.0.3', 'b'), ep('10.0.0.4', 't'), ep('10.0.0.5', 'n')];
    const rule = localityRule('fo', 'helloworld', { failover: [{ from: 'r1', to: 'r2' }] });
    const result = planFor([...nodes, ...hw(endpoints), rule], 'c');
    // Levels: 0 same subzone, 1 same zone, 2 same region, 3 failover region, 4 others; +5 for another network, cut at 8.
    expect(tierAddresses(result)).toEqual(
      tiers(8, { 0: ['10.0.0.1'], 2: ['10.0.0.2'], 3: ['10.0.0.4'], 4: ['10.0.0.3'], 7: ['10.0.0.5'] }),
    );
    expect(plannedService(result).reason).toContain('then region r2');
    // A client in a region no entry is from: plain region, zone, subzone.
    const elsewhere = planFor([...nodes, ...hw(endpoints), rule], 'b');
    expect(tierAddresses(elsewhere)).toEqual(tiers(8, { 0: ['10.0.0.3'], 3: ['10.0.0.1', '10.0.0.2', '10.0.0.4'], 7: ['10.0.0.5'] }));
  });

  it('failoverPriority ranks by leading labels matched, label=value against the value, other labels from Nodes', () => {
    const nodes = [
      node('c', { region: 'r', zone: 'z1' }, { pool: 'gold' }),
      node('a', { region: 'r', zone: 'z1' }, { pool: 'gold' }),
      node('b', { region: 'r', zone: 'z2' }, { pool: 'gold' }),
      node('d', { region: 'r', zone: 'z1' }, { pool: 'iron' }),
    ];
    const endpoints = [ep('10.0.0.1', 'a'), ep('10.0.0.2', 'b'), ep('10.0.0.3', 'd')];
    const rule = localityRule('fp', 'helloworld', { failoverPriority: ['pool', 'topology.kubernetes.io/zone'] });
    expect(tierAddresses(planFor([...nodes, ...hw(endpoints), rule], 'c'))).toEqual([['10.0.0.1'], ['10.0.0.2'], ['10.0.0.3']]);
    const byValue = localityRule('fp', 'helloworld', { failoverPriority: ['pool=iron'] });
    expect(tierAddresses(planFor([...nodes, ...hw(endpoints), byValue], 'c'))).toEqual([['10.0.0.3'], ['10.0.0.1', '10.0.0.2']]);
  });

  it('failoverPriority with failover orders the endpoints matching no label by region', () => {
    const nodes = [
      node('c', { region: 'r1' }, { pool: 'gold' }),
      node('x', { region: 'r3' }),
      node('t', { region: 'r2' }),
      node('s', { region: 'r1' }),
    ];
    const endpoints = [ep('10.0.0.1', 'x'), ep('10.0.0.2', 't'), ep('10.0.0.3', 's')];
    const rule = localityRule('fp', 'helloworld', { failoverPriority: ['pool'], failover: [{ from: 'r1', to: 'r2' }] });
    expect(tierAddresses(planFor([...nodes, ...hw(endpoints), rule], 'c'))).toEqual([[], ['10.0.0.3'], ['10.0.0.2'], ['10.0.0.1']]);
  });
});

describe('SEMANTICS.md conformance cases 11-15 (plan level)', () => {
  const seed003Nodes = [node('w1', { region: 'az01', zone: 'az01' }), node('w2', { region: 'az02', zone: 'az02' })];
  const seed003Pods = (which: Array<'w1' | 'w2'>) => which.map((w) => ep(POD[w], w));
  const failover = localityRule('helloworld', 'helloworld.sample.svc.cluster.local', {
    enabled: true,
    failover: [{ from: 'az01', to: 'az02' }],
  });

  it("case 11: seed 003's failover keeps a client on w1 on w1's pod, then w2's", () => {
    expect(tierAddresses(planFor([...seed003Nodes, ...hw(seed003Pods(['w1', 'w2'])), failover], 'w1'))).toEqual(
      tiers(8, { 0: [POD.w1], 3: [POD.w2] }),
    );
    expect(tierAddresses(planFor([...seed003Nodes, ...hw(seed003Pods(['w2'])), failover], 'w1'))).toEqual(tiers(8, { 3: [POD.w2] }));
  });

  const seed004Nodes = [
    node('c', { region: 'region1', zone: 'zone1' }),
    node('e1', { region: 'region1', zone: 'zone1' }),
    node('e2', { region: 'region1', zone: 'zone2' }),
    node('e3', { region: 'region2', zone: 'zone3' }),
    node('e4', { region: 'region3', zone: 'zone4' }),
  ];
  const distribute = localityRule('w', 'helloworld', {
    distribute: [{ from: 'region1/zone1/*', to: { 'region1/zone1/*': 70, 'region1/zone2/*': 20, 'region3/zone4/*': 10 } }],
  });

  it('case 12: distribute 70/20/10 gives three WEIGHTED tiers; region2/zone3 gets nothing', () => {
    const endpoints = ['e1', 'e2', 'e3', 'e4'].map((n, i) => ep(`10.0.0.${i + 1}`, n));
    const result = planFor([...seed004Nodes, ...hw(endpoints), distribute], 'c');
    expect(plannedService(result)).toMatchObject({ mode: 'WEIGHTED', weights: [70, 20, 10], destinationRule: 'sample/w' });
    expect(tierAddresses(result)).toEqual([['10.0.0.1'], ['10.0.0.2'], ['10.0.0.4']]);
  });

  it("case 13: with region1/zone1 gone its tier is empty and keeps its weight: the kernel's WEIGHTED pick skips it (2/3, 1/3)", () => {
    const endpoints = ['e2', 'e3', 'e4'].map((n, i) => ep(`10.0.0.${i + 2}`, n));
    const result = planFor([...seed004Nodes, ...hw(endpoints), distribute], 'c');
    expect(plannedService(result).weights).toEqual([70, 20, 10]);
    expect(tierAddresses(result)).toEqual([[], ['10.0.0.2'], ['10.0.0.4']]);
  });

  it('a client no from matches gets no locality (seed 004 outside region1/zone1)', () => {
    const endpoints = ['e1', 'e2'].map((n, i) => ep(`10.0.0.${i + 1}`, n));
    const result = planFor([...seed004Nodes, ...hw(endpoints), distribute], 'e2');
    expect(plannedService(result).mode).toBe('RANDOM');
    expect(tierAddresses(result)).toEqual([['10.0.0.1', '10.0.0.2']]);
  });

  it('case 14: case 1 plus enabled: false: every pod in one tier', () => {
    const result = planFor(
      [...seedNodes(), ...hw(undefined, { trafficDistribution: 'PreferClose' }), localityRule('off', 'helloworld', { enabled: false })],
      'w1',
    );
    expect(tierAddresses(result)).toEqual([[POD.w1, POD.w2, POD.w3]]);
  });

  it('case 15: internalTrafficPolicy Local wins over a distribute rule', () => {
    const rule = localityRule('w', 'helloworld', { distribute: [{ from: '*', to: { 'r/z2': 100 } }] });
    const result = planFor([...seedNodes(), ...hw(undefined, { internalTrafficPolicy: 'Local' }), rule], 'w1');
    expect(plannedService(result).mode).toBe('STRICT');
    expect(plannedService(result).reason).toContain('wins over DestinationRule sample/w');
    expect(tierAddresses(result)).toEqual([[POD.w1]]);
  });
});

/** The seeds' rules as committed under deploy/samples (seed 003's re-indented, otherwise as written). */
const sampleText = (file: string): string => readFileSync(join(import.meta.dirname, '../../../deploy/samples', file), 'utf8');
const SEED_003_FAILOVER = sampleText('seed-003/destination-rule-failover.yaml');
const SEED_003_DISTRIBUTE = sampleText('seed-003/destination-rule-distribute.yaml');
const SEED_001 = sampleText('seed-001/destination-rule-subsets.yaml');

/** kubectl apply -n sample puts a namespace-less manifest in sample. */
function inNamespace(objects: Array<Record<string, unknown>>, ns: string): unknown[] {
  return objects.map((o) => ({ ...o, metadata: { namespace: ns, ...(o['metadata'] as object) } }));
}

describe('seed DestinationRules as written', () => {
  it('seed 003 failover (v1beta1): a client in az01 stays on az01, ROUND_ROBIN inside, L7 fields reported', () => {
    const rule = parseManifest('failover.yaml', SEED_003_FAILOVER);
    const nodes = [node('w1', { region: 'az01', zone: 'az01' }), node('w2', { region: 'az02', zone: 'az02' })];
    const result = planFor([...nodes, ...hw([ep(POD.w1, 'w1'), ep(POD.w2, 'w2')]), ...rule], 'w1');
    expect(tierAddresses(result)).toEqual(tiers(8, { 0: [POD.w1], 3: [POD.w2] }));
    expect(plannedService(result).entries[0]?.balance).toBe('ROUND_ROBIN');
    expect(result.warnings.map((w) => [w.code, w.name, w.message])).toEqual([
      ['dr-l7-not-applied', 'sample/helloworld', expect.stringContaining('spec.trafficPolicy.connectionPool.http')],
    ]);
  });

  const distribute = inNamespace(parseManifest('distribute.yaml', SEED_003_DISTRIBUTE), 'sample');

  it("seed 003 distribute against its kind config's labels (region az01): no from matches, one tier", () => {
    const nodes = [node('w1', { region: 'az01', zone: 'az01' }), node('w2', { region: 'az02', zone: 'az02' })];
    const result = planFor([...nodes, ...hw([ep(POD.w1, 'w1'), ep(POD.w2, 'w2')]), ...distribute], 'w1');
    expect(plannedService(result).mode).toBe('RANDOM');
    expect(plannedService(result).reason).toContain('no from matches');
    expect(tierAddresses(result)).toEqual([[POD.w1, POD.w2]]);
  });

  it('seed 003 distribute against its later labels (region sg): each client keeps to its zone', () => {
    const nodes = [node('w1', { region: 'sg', zone: 'az01' }), node('w2', { region: 'sg', zone: 'az02' })];
    const objects = [...nodes, ...hw([ep(POD.w1, 'w1'), ep(POD.w2, 'w2')]), ...distribute];
    expect(plannedService(planFor(objects, 'w1'))).toMatchObject({ mode: 'WEIGHTED', weights: [100] });
    expect(tierAddresses(planFor(objects, 'w1'))).toEqual([[POD.w1]]);
    expect(tierAddresses(planFor(objects, 'w2'))).toEqual([[POD.w2]]);
  });

  it('seed 001 (subsets, ROUND_ROBIN) is accepted; it names no Service here, and on a matching host applies ROUND_ROBIN with subsets reported', () => {
    const objects = parseManifest('seed001.yaml', SEED_001);
    const { rejected, snapshot } = buildSnapshot(objects);
    expect(rejected).toEqual([]);
    expect(snapshot.destinationRules.get('default/my-destination-rule')?.notApplied).toEqual(['spec.subsets']);
    const local = {
      ...objects[0]!,
      spec: { ...(objects[0]!['spec'] as object), host: 'helloworld' },
      metadata: { name: 'r', namespace: 'sample' },
    };
    const result = planFor([...seedNodes(), ...hw(), local], 'w1');
    expect(plannedService(result).entries[0]?.balance).toBe('ROUND_ROBIN');
    expect(plannedService(result).mode).toBe('RANDOM');
    expect(result.warnings.map((w) => w.code)).toEqual(['dr-l7-not-applied']);
  });
});

describe('loadBalancer inside the tiers', () => {
  const withPorts = service('helloworld', {
    ports: [
      { name: 'http', port: 5000 },
      { name: 'admin', port: 9000 },
    ],
  });
  const sl = slice('hw-1', {
    service: 'helloworld',
    ports: [
      { name: 'http', port: 5000 },
      { name: 'admin', port: 9000 },
    ],
    endpoints: seedEndpoints(),
  });

  it.each([
    ['RANDOM', undefined],
    ['ROUND_ROBIN', 'ROUND_ROBIN'],
    ['LEAST_REQUEST', 'LEAST_REQUEST'],
    ['LEAST_CONN', 'LEAST_REQUEST'],
    ['UNSPECIFIED', undefined],
  ])('simple %s gives balance %s', (simple, balance) => {
    const result = planFor(
      [...seedNodes(), ...hw(), destinationRule('r', { host: 'helloworld', trafficPolicy: { loadBalancer: { simple } } })],
      'w1',
    );
    expect(plannedService(result).entries[0]?.balance).toBe(balance);
    expect(result.warnings).toEqual([]);
  });

  it('portLevelSettings override per port; PASSTHROUGH, an HTTP consistentHash and port-level locality are warned about', () => {
    const rule = destinationRule('r', {
      host: 'helloworld',
      trafficPolicy: {
        loadBalancer: { simple: 'LEAST_CONN' },
        portLevelSettings: [
          { port: { number: 9000 }, loadBalancer: { simple: 'PASSTHROUGH', localityLbSetting: { enabled: false } } },
          { port: { number: 5000 }, loadBalancer: { consistentHash: { httpHeaderName: 'x-user' }, simple: 'ROUND_ROBIN' } },
        ],
      },
    });
    const result = planFor([...seedNodes(), withPorts, sl, rule], 'w1');
    const [http, admin] = plannedService(result).entries;
    expect(http?.balance).toBe('ROUND_ROBIN');
    expect(http?.passthrough).toBeUndefined();
    expect(admin?.balance).toBeUndefined();
    expect(admin?.passthrough).toBe(true);
    expect(result.warnings.map((w) => w.code).sort()).toEqual(['dr-l7-not-applied', 'dr-lb-not-applied', 'dr-passthrough']);
    expect(result.warnings.find((w) => w.code === 'dr-passthrough')?.message).toContain('only where kube-proxy');
  });

  it('PASSTHROUGH on a Service claimed for nearby alone (service-proxy-name=nearby, which kube-proxy ignores) warns that the connects have no proxy', () => {
    const rule = destinationRule('r', { host: 'helloworld', trafficPolicy: { loadBalancer: { simple: 'PASSTHROUGH' } } });
    const svc = service('helloworld');
    (svc['metadata'] as Record<string, unknown>)['labels'] = { 'service.kubernetes.io/service-proxy-name': 'nearby' };
    const result = planFor([...seedNodes(), svc, slice('hw-1', { service: 'helloworld', endpoints: seedEndpoints() }), rule], 'w1');
    expect(plannedService(result).entries[0]?.passthrough).toBe(true);
    const [warning] = result.warnings;
    expect(warning?.code).toBe('dr-passthrough');
    expect(warning?.message).toContain('service.kubernetes.io/service-proxy-name=nearby');
    expect(warning?.message).toContain('no proxy');
  });

  it.each([
    [{ useSourceIp: true }, 1021, [] as string[]],
    [{ useSourceIp: true, maglev: { tableSize: 1000 } }, 997, []],
    [{ useSourceIp: true, maglev: { tableSize: 65537 } }, 4093, ['dr-maglev-table-capped']],
    [{ useSourceIp: true, ringHash: { minimumRingSize: 1024 } }, 1021, ['dr-ring-hash-as-maglev']],
    [{ useSourceIp: true, minimumRingSize: 100000 }, 4093, ['dr-maglev-table-capped', 'dr-ring-hash-as-maglev']],
  ])('consistentHash %j is MAGLEV with a table of %i slots, warned %j', (consistentHash, size, codes) => {
    const rule = destinationRule('r', { host: 'helloworld', trafficPolicy: { loadBalancer: { consistentHash } } });
    const result = planFor([...seedNodes(), ...hw(), rule], 'w1');
    expect(result.warnings.map((w) => w.code).sort()).toEqual(codes);
    expect(plannedService(result).entries[0]).toMatchObject({ balance: 'MAGLEV', maglevTableSize: size });
    if (codes.includes('dr-maglev-table-capped'))
      expect(result.warnings.find((w) => w.code === 'dr-maglev-table-capped')?.message).toContain('cap 4093');
  });
});
