/**
 * The model's per-endpoint shortcuts give what the general paths give: canonical-address checks,
 * address sort keys, one label read from a map, qualified remote node names.
 */
import { describe, expect, it } from 'vitest';
import { addressSortKey, isCanonicalIp, parseIp } from '../../../pkg/ip/index.js';
import { buildSnapshot, convertObject, inCluster, SnapshotStore } from '../../../pkg/model/index.js';
import { ep, node, service, slice } from './fixtures.js';

const TEXTS = [
  '10.0.0.1',
  '0.0.0.0',
  '255.255.255.255',
  '10.0.0.256',
  '01.0.0.1',
  '10.0.0',
  'fd00::1',
  'FD00::1',
  'fd00:0:0:0:0:0:0:1',
  '::ffff:10.0.0.1',
  '::',
  'fd00::1::2',
  'example.com',
  '',
];

describe('isCanonicalIp', () => {
  it.each(TEXTS)('%j agrees with parseIp', (text) => {
    const ip = parseIp(text);
    for (const family of [4, 6] as const) expect(isCanonicalIp(text, family)).toBe(ip?.address === text && ip.family === family);
  });
});

describe('addressSortKey', () => {
  it('gives IPv4 its eight hex digits, numeric order, IPv4 before IPv6 before the rest', () => {
    expect(addressSortKey('10.0.0.9')).toBe('4:0a000009');
    expect(addressSortKey('255.255.255.255')).toBe('4:ffffffff');
    expect(addressSortKey('0.0.0.0')).toBe('4:00000000');
    expect(addressSortKey('fd00::1')).toBe('6:fd000000000000000000000000000001');
    expect(addressSortKey('10.0.0.256')).toBe('x:10.0.0.256');
    const sorted = ['fd00::1', 'x', '10.0.0.10', '9.255.0.1', '10.0.0.9'].sort((a, b) => (addressSortKey(a) < addressSortKey(b) ? -1 : 1));
    expect(sorted).toEqual(['9.255.0.1', '10.0.0.9', '10.0.0.10', 'fd00::1', 'x']);
  });
});

describe('one label read from a map', () => {
  it('rejects a slice or Service with a label that is not a string, as reading every label did', () => {
    const raw = slice('web-a', { service: 'web', endpoints: [] }) as { metadata: { labels: Record<string, unknown> } };
    raw.metadata.labels['tier'] = 3;
    expect(convertObject(raw)).toMatchObject({
      status: 'rejected',
      rejection: { code: 'wrong-type', message: 'metadata.labels[tier]: expected a string, got a number' },
    });
    const svc = service('web') as { metadata: Record<string, unknown> };
    svc.metadata['labels'] = { ok: 'yes', bad: true };
    expect(convertObject(svc)).toMatchObject({
      status: 'rejected',
      rejection: { code: 'wrong-type', message: 'metadata.labels[bad]: expected a string, got a boolean' },
    });
  });

  it('reads the service-name and service-proxy-name labels', () => {
    const svc = service('web') as { metadata: Record<string, unknown> };
    svc.metadata['labels'] = { 'service.kubernetes.io/service-proxy-name': 'other' };
    const converted = convertObject(svc);
    expect(converted.status === 'accepted' && converted.object.kind === 'Service' && converted.object.service.serviceProxyName).toBe(
      'other',
    );
    const withoutLabel = slice('web-a', { service: 'web', endpoints: [] }) as { metadata: { labels: Record<string, unknown> } };
    delete withoutLabel.metadata.labels['kubernetes.io/service-name'];
    expect(convertObject(withoutLabel)).toMatchObject({ status: 'rejected', rejection: { code: 'missing-field' } });
  });
});

describe('remote node names', () => {
  it('qualifies them per cluster, one string per node', () => {
    const { snapshot } = buildSnapshot([
      node('w1'),
      service('web'),
      inCluster('c2', [
        node('w1'),
        slice('web-a', { service: 'web', endpoints: [ep('10.1.0.1', 'w1')] }),
        slice('web-b', { service: 'web', endpoints: [ep('10.1.0.2', 'w1')] }),
      ]),
      inCluster('c3', [slice('web-a', { service: 'web', endpoints: [ep('10.2.0.1', 'w1')] })]),
    ]);
    const endpoints = snapshot.endpointSlices.get('sample/web')!.flatMap((s) => s.endpoints);
    expect(endpoints.map((e) => [e.cluster, e.nodeName])).toEqual([
      ['c2', 'c2/w1'],
      ['c2', 'c2/w1'],
      ['c3', 'c3/w1'],
    ]);
    expect([...snapshot.nodes.keys()].sort()).toEqual(['c2/w1', 'w1']);
  });
});

describe('port lists converted once per frozen raw list', () => {
  const frozenPorts = (ports: unknown[]): readonly unknown[] => Object.freeze(ports.map((p) => Object.freeze(p)));
  const withPorts = (raw: unknown, ports: readonly unknown[]): unknown => ({ ...(raw as object), ports });

  it('gives the same ports for every slice that shares the list, as an unshared copy does', () => {
    const shared = frozenPorts([
      { name: 'http', port: 8080 },
      { port: 9090, protocol: 'UDP' },
    ]);
    const ports = (raw: unknown): unknown => {
      const c = convertObject(raw);
      return c.status === 'accepted' && c.object.kind === 'EndpointSlice' ? c.object.endpointSlice.ports : c;
    };
    const a = ports(withPorts(slice('a', { service: 'web', endpoints: [] }), shared));
    const b = ports(withPorts(slice('b', { service: 'web', endpoints: [] }), shared));
    const copy = ports(
      withPorts(slice('c', { service: 'web', endpoints: [] }), [
        { name: 'http', port: 8080 },
        { port: 9090, protocol: 'UDP' },
      ]),
    );
    expect(a).toEqual([
      { name: 'http', port: 8080, protocol: 'TCP' },
      { name: '', port: 9090, protocol: 'UDP' },
    ]);
    expect(b).toBe(a);
    expect(copy).toEqual(a);
  });

  it('refuses a shared list every time it is met', () => {
    const shared = frozenPorts([
      { name: 'http', port: 80 },
      { name: 'http', port: 81 },
    ]);
    const svc = (name: string): unknown => {
      const raw = service(name) as { spec: Record<string, unknown> };
      return { ...raw, spec: { ...raw.spec, ports: shared } };
    };
    for (const name of ['a', 'b']) {
      expect(convertObject(svc(name))).toMatchObject({
        status: 'rejected',
        rejection: { code: 'duplicate-port', message: 'spec.ports[1].name: duplicate port name "http"' },
      });
    }
  });
});

describe('the store index of Services by node', () => {
  it('lists each Service once per node, in the order the Services and their endpoints come', () => {
    const store = new SnapshotStore();
    store.rebuild([
      node('w1'),
      node('w2'),
      service('web'),
      service('api'),
      slice('web-a', { service: 'web', endpoints: [ep('10.0.0.1', 'w2'), ep('10.0.0.2', 'w1'), ep('10.0.0.3', 'w2')] }),
      slice('api-a', { service: 'api', endpoints: [ep('10.0.1.1', 'w1'), ep('10.0.1.2')] }),
      slice('web-b', { service: 'web', endpoints: [ep('10.0.0.4', 'w1')] }),
    ]);
    expect([...store.servicesOnNode('w1')]).toEqual(['sample/api', 'sample/web']);
    expect([...store.servicesOnNode('w2')]).toEqual(['sample/web']);
    expect([...store.servicesOnNode('w3')]).toEqual([]);
  });
});
