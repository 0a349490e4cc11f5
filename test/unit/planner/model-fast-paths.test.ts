/**
 * The model's per-endpoint shortcuts give what the general paths give: canonical-address checks,
 * address sort keys, one label read from a map, qualified remote node names.
 */
import { describe, expect, it } from 'vitest';
import { addressSortKey, isCanonicalIp, parseIp } from '../../../pkg/ip/index.js';
import { buildSnapshot, convertObject, inCluster } from '../../../pkg/model/index.js';
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
