// DestinationRule -> model: what is kept, what is reported as not applied, and Istio's
// validation rules as named rejections of the one rule.
import { describe, expect, it } from 'vitest';
import { buildSnapshot, convertObject, MODEL_KINDS, SnapshotStore, WATCHED_KINDS } from '../../../pkg/model/index.js';
import { planOf, seedEndpoints, seedNodes, service, slice } from './fixtures.js';
import { parseManifest } from '../../../pkg/source/index.js';
import { BROKEN_SETTINGS, destinationRule, localityRule } from './dr-fixtures.js';

function accepted(raw: unknown) {
  const conversion = convertObject(raw);
  if (conversion.status !== 'accepted' || conversion.object.kind !== 'DestinationRule') throw new Error(JSON.stringify(conversion));
  return conversion.object.destinationRule;
}

describe('DestinationRule in the kinds table', () => {
  it('is read by the model but not listed by sources while the CRD may be absent', () => {
    const row = MODEL_KINDS.find((k) => k.kind === 'DestinationRule');
    expect(row).toMatchObject({
      group: 'networking.istio.io',
      version: 'v1',
      plural: 'destinationrules',
      namespaced: true,
      optional: true,
    });
    expect(row?.path).toBe('/apis/networking.istio.io/v1/destinationrules');
    expect(WATCHED_KINDS.map((k) => k.kind)).not.toContain('DestinationRule');
  });

  it.each(['networking.istio.io/v1', 'networking.istio.io/v1beta1', 'networking.istio.io/v1alpha3'])('accepts %s', (apiVersion) => {
    expect(accepted(destinationRule('a', { host: 'h' }, { apiVersion })).host).toBe('h');
  });

  it('refuses another version of the group and ignores another group', () => {
    const other = convertObject(destinationRule('a', { host: 'h' }, { apiVersion: 'networking.istio.io/v2' }));
    expect(other.status === 'rejected' && other.rejection.code).toBe('unsupported-api-version');
    expect(convertObject(destinationRule('a', { host: 'h' }, { apiVersion: 'example.com/v1' })).status).toBe('ignored');
  });

  it('is kept from a manifest file', () => {
    const text = 'apiVersion: networking.istio.io/v1beta1\nkind: DestinationRule\nmetadata: {name: a, namespace: n}\nspec: {host: h}\n';
    const objects = parseManifest('dr.yaml', text);
    expect(buildSnapshot(objects).snapshot.destinationRules.get('n/a')?.host).toBe('h');
  });
});

describe('DestinationRule conversion', () => {
  it('keeps what nearby reads', () => {
    const rule = accepted(
      destinationRule(
        'hw',
        {
          host: 'helloworld',
          exportTo: ['.'],
          workloadSelector: { matchLabels: { app: 'sleep' } },
          trafficPolicy: {
            loadBalancer: {
              simple: 'LEAST_CONN',
              localityLbSetting: { enabled: true, failover: [{ from: 'az01', to: 'az02' }], failoverPriority: ['app'] },
            },
            portLevelSettings: [{ port: { number: 5000 }, loadBalancer: { consistentHash: { useSourceIp: true } } }],
            outlierDetection: { consecutive5xxErrors: 1 },
          },
        },
        { namespace: 'sample', creationTimestamp: '2026-01-01T00:00:00Z' },
      ),
    );
    expect(rule).toEqual({
      key: 'sample/hw',
      namespace: 'sample',
      name: 'hw',
      creationTimestamp: '2026-01-01T00:00:00Z',
      host: 'helloworld',
      exportTo: ['.'],
      hasWorkloadSelector: true,
      loadBalancer: {
        simple: 'LEAST_CONN',
        localityLbSetting: { enabled: true, distribute: [], failover: [{ from: 'az01', to: 'az02' }], failoverPriority: ['app'] },
      },
      portLevelSettings: [{ port: 5000, loadBalancer: { consistentHash: 'useSourceIp' } }],
      outlierDetection: { consecutiveFailures: 1, maxEjectionPercent: 10, baseEjectionMs: 30_000, intervalMs: 10_000 },
      notApplied: [],
    });
  });

  it('lists the fields that act above L4 by path', () => {
    const rule = accepted(
      destinationRule('r', {
        host: 'h',
        subsets: [{ name: 'v1', labels: { version: 'v1' } }],
        trafficPolicy: {
          connectionPool: { http: { maxRequestsPerConnection: 1 }, tcp: { maxConnections: 5 } },
          tls: { mode: 'ISTIO_MUTUAL' },
          loadBalancer: { simple: 'ROUND_ROBIN', warmupDurationSecs: '10s' },
          portLevelSettings: [{ port: { number: 80 }, connectionPool: { http: { http2MaxRequests: 3 } } }],
        },
      }),
    );
    expect(rule.notApplied).toEqual([
      'spec.subsets',
      'spec.trafficPolicy.loadBalancer.warmupDurationSecs',
      'spec.trafficPolicy.portLevelSettings[0].connectionPool.http',
      'spec.trafficPolicy.connectionPool.http',
      'spec.trafficPolicy.connectionPool.tcp',
      'spec.trafficPolicy.tls',
    ]);
  });

  it.each([
    [{ httpHeaderName: 'x-user' }, 'httpHeaderName'],
    [{ httpCookie: { name: 'c', ttl: '0s' } }, 'httpCookie'],
    [{ httpQueryParameterName: 'q' }, 'httpQueryParameterName'],
    [{ useSourceIp: true, maglev: { tableSize: 65537 } }, 'useSourceIp'],
    [{ maglev: {} }, 'other'],
  ])('reads consistentHash %j as %s', (consistentHash, kind) => {
    const rule = accepted(destinationRule('r', { host: 'h', trafficPolicy: { loadBalancer: { consistentHash } } }));
    expect(rule.loadBalancer?.consistentHash).toBe(kind);
  });

  it.each([
    [{ useSourceIp: true }, undefined],
    [
      { useSourceIp: true, maglev: { tableSize: 65537 } },
      { kind: 'maglev', size: 65537 },
    ],
    [{ useSourceIp: true, maglev: {} }, { kind: 'maglev' }],
    [
      { useSourceIp: true, ringHash: { minimumRingSize: 1024 } },
      { kind: 'ringHash', size: 1024 },
    ],
    [
      { useSourceIp: true, minimumRingSize: 512 },
      { kind: 'ringHash', size: 512 },
    ],
  ])('keeps the table of consistentHash %j as %j', (consistentHash, table) => {
    const rule = accepted(destinationRule('r', { host: 'h', trafficPolicy: { loadBalancer: { consistentHash } } }));
    expect(rule.loadBalancer?.hashTable).toEqual(table);
  });

  it('refuses a table size that is not a positive integer', () => {
    const bad = convertObject(
      destinationRule('r', {
        host: 'h',
        trafficPolicy: { loadBalancer: { consistentHash: { useSourceIp: true, maglev: { tableSize: -3 } } } },
      }),
    );
    expect(bad.status === 'rejected' && bad.rejection).toMatchObject({ code: 'wrong-type', name: 'sample/r' });
  });

  it('refuses an unknown simple load balancer and a rule without host', () => {
    const simple = convertObject(destinationRule('r', { host: 'h', trafficPolicy: { loadBalancer: { simple: 'FASTEST' } } }));
    expect(simple.status === 'rejected' && simple.rejection).toMatchObject({
      code: 'unknown-enum',
      kind: 'DestinationRule',
      name: 'sample/r',
    });
    const hostless = convertObject(destinationRule('r', {}));
    expect(hostless.status === 'rejected' && hostless.rejection.code).toBe('missing-field');
  });

  it.each(BROKEN_SETTINGS)('refuses $code, naming the rule and the field', ({ code, path, setting }) => {
    const conversion = convertObject(localityRule('broken', 'h', setting, { namespace: 'sample' }));
    expect(conversion.status).toBe('rejected');
    if (conversion.status !== 'rejected') return;
    expect(conversion.rejection).toMatchObject({ code, kind: 'DestinationRule', name: 'sample/broken' });
    expect(conversion.rejection.message.startsWith(`${path}:`)).toBe(true);
  });

  it.each([
    ['r/z/s/x', 'dr-bad-locality'],
    ['*/z', 'dr-bad-locality'],
    ['r/z*', 'dr-bad-locality'],
    ['', 'missing-field'],
  ])('refuses distribute.from %j', (from, code) => {
    const conversion = convertObject(localityRule('b', 'h', { distribute: [{ from, to: { r: 100 } }] }));
    expect(conversion.status === 'rejected' && conversion.rejection.code).toBe(code);
  });

  it.each(['*', 'r', 'r/*', 'r/z', 'r/z/*', 'r/z/s'])('accepts the locality %j', (from) => {
    expect(accepted(localityRule('ok', 'h', { distribute: [{ from, to: { [from]: 100 } }] })).host).toBe('h');
  });

  it('refuses a failover region holding a slash, and a repeated distribute.from', () => {
    const slash = convertObject(localityRule('b', 'h', { failover: [{ from: 'r/z', to: 'q' }] }));
    expect(slash.status === 'rejected' && slash.rejection.code).toBe('dr-bad-locality');
    const twice = convertObject(localityRule('b', 'h', { distribute: [1, 2].map(() => ({ from: 'r/*', to: { r: 100 } })) }));
    expect(twice.status === 'rejected' && twice.rejection.code).toBe('dr-bad-locality');
  });

  it('allows failover with a failoverPriority of other labels', () => {
    const rule = accepted(
      localityRule('ok', 'h', { failover: [{ from: 'r', to: 'q' }], failoverPriority: ['topology.istio.io/network', 'app=x'] }),
    );
    expect(rule.loadBalancer?.localityLbSetting?.failoverPriority).toEqual(['topology.istio.io/network', 'app=x']);
  });

  it('a broken rule keeps no other object out of the snapshot', () => {
    const { snapshot, rejected } = buildSnapshot([
      localityRule('broken', 'h', BROKEN_SETTINGS[0]!.setting),
      localityRule('fine', 'h', { enabled: false }),
      { apiVersion: 'v1', kind: 'Node', metadata: { name: 'w1' } },
    ]);
    expect(rejected.map((r) => [r.code, r.name])).toEqual([['dr-distribute-and-failover', 'sample/broken']]);
    expect([...snapshot.destinationRules.keys()]).toEqual(['sample/fine']);
    expect(snapshot.nodes.has('w1')).toBe(true);
  });
});

describe('DestinationRules in the live store', () => {
  it('a rule change re-plans every Service, and the planner sees the new rules', () => {
    const store = new SnapshotStore();
    store.rebuild([
      ...seedNodes(),
      service('helloworld'),
      service('other', { clusterIP: '10.96.0.101' }),
      slice('hw', { service: 'helloworld', endpoints: seedEndpoints() }),
    ]);
    expect(planOf(store.snapshot).destinationRule).toBeUndefined();
    const before = store.snapshot.destinationRules;
    const delta = store.apply([{ kind: 'DestinationRule', name: 'sample/r', object: localityRule('r', 'helloworld', { enabled: false }) }]);
    expect([...delta.services].sort()).toEqual(['sample/helloworld', 'sample/other']);
    expect(store.snapshot.destinationRules).not.toBe(before);
    expect(planOf(store.snapshot)).toMatchObject({ destinationRule: 'sample/r', mode: 'RANDOM' });
    store.apply([{ kind: 'DestinationRule', name: 'sample/r', object: undefined }]);
    expect(planOf(store.snapshot).destinationRule).toBeUndefined();
    const rebuilt = store.rebuild([...seedNodes(), service('helloworld'), localityRule('r', 'helloworld', { enabled: false })]);
    expect(rebuilt.services.has('sample/helloworld')).toBe(true);
    expect(planOf(store.snapshot).destinationRule).toBe('sample/r');
  });
});
