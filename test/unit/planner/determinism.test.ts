/** Plans are plain JSON and deterministic, so they can be printed, stored and diffed. */
import { describe, expect, it } from 'vitest';
import { plan } from '../../../pkg/planner/index.js';
import { ep, namespace, planFor, POD, seedEndpoints, seedNodes, service, slice, snapshotOf, tierAddresses } from './fixtures.js';

function seedObjects(): unknown[] {
  return [
    ...seedNodes(),
    namespace('sample'),
    service('helloworld', { trafficDistribution: 'PreferClose', clusterIPs: ['10.96.0.100', 'fd00:10:96::100'] }),
    service('aaa', {
      clusterIP: '10.96.0.5',
      ports: [
        { name: 'dns', port: 53, protocol: 'UDP' },
        { name: 'dns-tcp', port: 53 },
      ],
    }),
    service('headless', { clusterIP: 'None' }),
    slice('hw-1', { service: 'helloworld', endpoints: seedEndpoints() }),
    slice('hw-2', { service: 'helloworld', addressType: 'IPv6', endpoints: [ep('fd00:10:244:2::a', 'w2')] }),
    slice('aaa-1', {
      service: 'aaa',
      ports: [
        { name: 'dns', port: 53, protocol: 'UDP' },
        { name: 'dns-tcp', port: 53 },
      ],
      endpoints: [ep('10.244.1.20', 'w1'), ep('10.244.2.20', 'w2', { terminating: true, ready: false })],
    }),
    service('warned', {
      trafficDistribution: 'Nope',
      ports: [
        { name: 'x', port: 1 },
        { name: 'y', port: 2 },
      ],
    }),
    slice('warned-1', { service: 'warned', ports: [{ name: 'z', port: 3 }], endpoints: [ep('10.244.3.30', 'w3')] }),
  ];
}

describe('plan output', () => {
  it('is plain JSON: a round trip changes nothing', () => {
    const result = planFor(seedObjects(), 'w1');
    expect(JSON.parse(JSON.stringify(result))).toEqual(result);
  });

  it('does not depend on the order of the input objects', () => {
    const objects = seedObjects();
    const forwards = JSON.stringify(plan(snapshotOf(objects), 'w1'));
    const backwards = JSON.stringify(plan(snapshotOf([...objects].reverse()), 'w1'));
    const shuffled = JSON.stringify(plan(snapshotOf([objects[5], objects[0], ...objects.slice(6), ...objects.slice(1, 5)]), 'w1'));
    expect(backwards).toBe(forwards);
    expect(shuffled).toBe(forwards);
  });

  it('orders services and skipped Services by namespace/name', () => {
    const result = planFor(seedObjects(), 'w1');
    expect(result.services.map((s) => s.service)).toEqual(['sample/aaa', 'sample/helloworld', 'sample/warned']);
    expect(result.skipped.map((s) => s.service)).toEqual(['sample/headless']);
    expect(result.node).toBe('w1');
  });

  it('orders endpoints in a tier numerically by address', () => {
    const endpoints = ['10.0.0.10', '10.0.0.9', '10.0.0.100', '9.0.0.1'].map((a) => ep(a, 'w1'));
    const result = planFor([...seedNodes(), service('helloworld'), slice('hw-1', { service: 'helloworld', endpoints })], 'w1');
    expect(tierAddresses(result)).toEqual([['9.0.0.1', '10.0.0.9', '10.0.0.10', '10.0.0.100']]);
  });

  it('reports each warning once, sorted by kind, name and message', () => {
    const result = planFor(seedObjects(), 'w1');
    const warned = { kind: 'Service', name: 'sample/warned' };
    expect(result.warnings).toEqual([
      { code: 'port-mismatch', ...warned, message: 'port "x" (1/TCP) matches no port of its IPv4 EndpointSlices' },
      { code: 'port-mismatch', ...warned, message: 'port "y" (2/TCP) matches no port of its IPv4 EndpointSlices' },
      { code: 'unknown-policy', ...warned, message: 'unknown spec.trafficDistribution "Nope", ignored' },
    ]);
  });

  it('is the whole expected plan for one Service (a full-shape check)', () => {
    const result = planFor(seedObjects(), 'w2');
    expect(result.services[0]).toEqual({
      service: 'sample/aaa',
      mode: 'RANDOM',
      reason: 'no locality policy: RANDOM over every eligible endpoint',
      scopes: [],
      entries: [
        {
          vip: '10.96.0.5',
          family: 4,
          port: 53,
          protocol: 'TCP',
          portName: 'dns-tcp',
          tiers: [{ endpoints: [{ address: '10.244.1.20', port: 53, node: 'w1', pod: 'sample/helloworld-w1', terminating: false }] }],
        },
        {
          vip: '10.96.0.5',
          family: 4,
          port: 53,
          protocol: 'UDP',
          portName: 'dns',
          tiers: [{ endpoints: [{ address: '10.244.1.20', port: 53, node: 'w1', pod: 'sample/helloworld-w1', terminating: false }] }],
        },
      ],
    });
  });

  it('the default options are the seed meaning of PreferClose', () => {
    const snapshot = snapshotOf(seedObjects());
    expect(plan(snapshot, 'w1')).toEqual(plan(snapshot, 'w1', { preferCloseMeaning: 'subzone' }));
    expect(plan(snapshot, 'w1')).not.toEqual(plan(snapshot, 'w1', { preferCloseMeaning: 'zone' }));
  });

  it('an endpoint without a Pod behind it has pod null', () => {
    const raw = slice('hw-1', { service: 'helloworld', endpoints: [] });
    const withoutRef = { ...raw, endpoints: [{ addresses: [POD.w1], nodeName: 'w1' }] };
    const result = planFor([...seedNodes(), service('helloworld'), withoutRef], 'w1');
    expect(result.services[0]?.entries[0]?.tiers[0]?.endpoints).toEqual([
      { address: POD.w1, port: 5000, node: 'w1', pod: null, terminating: false },
    ]);
  });
});
