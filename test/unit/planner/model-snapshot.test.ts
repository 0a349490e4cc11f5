/** pkg/model: from parsed Kubernetes objects to the snapshot, one bad object at a time. */
import { describe, expect, it } from 'vitest';
import { buildSnapshot, convertObject, parseIp } from '../../../pkg/model/index.js';
import { ep, namespace, node, service, slice } from './fixtures.js';

describe('buildSnapshot', () => {
  it('indexes nodes, services, namespaces, and slices grouped by Service in slice-name order', () => {
    const { snapshot, rejected } = buildSnapshot([
      node('w1', { zone: 'z1' }),
      namespace('sample', { a: 'b' }),
      service('web'),
      slice('web-b', { service: 'web', endpoints: [ep('10.0.0.2', 'w1')] }),
      slice('web-a', { service: 'web', endpoints: [ep('10.0.0.1', 'w1')] }),
      slice('orphan-1', { service: 'gone', endpoints: [] }),
    ]);
    expect(rejected).toEqual([]);
    expect([...snapshot.nodes.keys()]).toEqual(['w1']);
    expect(snapshot.nodes.get('w1')?.labels['topology.kubernetes.io/zone']).toBe('z1');
    expect([...snapshot.namespaces.keys()]).toEqual(['sample']);
    expect(snapshot.namespaces.get('sample')?.annotations).toEqual({ a: 'b' });
    expect([...snapshot.services.keys()]).toEqual(['sample/web']);
    expect(snapshot.endpointSlices.get('sample/web')?.map((s) => s.name)).toEqual(['web-a', 'web-b']);
    expect(snapshot.endpointSlices.get('sample/gone')?.map((s) => s.name)).toEqual(['orphan-1']);
  });

  it('converts a Service to the fields that matter', () => {
    const { snapshot } = buildSnapshot([
      service('web', {
        clusterIPs: ['10.96.0.1', 'FD00::0001'],
        trafficDistribution: 'PreferClose',
        internalTrafficPolicy: 'Cluster',
        annotations: { x: 'y' },
        ports: [
          { name: 'http', port: 80 },
          { name: 'dns', port: 53, protocol: 'UDP' },
        ],
      }),
    ]);
    expect(snapshot.services.get('sample/web')).toEqual({
      key: 'sample/web',
      namespace: 'sample',
      name: 'web',
      type: 'ClusterIP',
      annotations: { x: 'y' },
      headless: false,
      clusterIPs: [
        { address: '10.96.0.1', family: 4 },
        { address: 'fd00::1', family: 6 },
      ],
      internalTrafficPolicy: 'Cluster',
      trafficDistribution: 'PreferClose',
      ports: [
        { name: 'http', port: 80, protocol: 'TCP' },
        { name: 'dns', port: 53, protocol: 'UDP' },
      ],
    });
  });

  it('converts an EndpointSlice, keeping unset conditions unset', () => {
    const raw = slice('web-1', { service: 'web', endpoints: [ep('10.0.0.1', 'w1', { zone: 'z1', ready: false, terminating: true })] });
    const { snapshot } = buildSnapshot([raw]);
    expect(snapshot.endpointSlices.get('sample/web')?.[0]).toEqual({
      namespace: 'sample',
      name: 'web-1',
      serviceKey: 'sample/web',
      addressType: 'IPv4',
      ports: [{ name: 'http', port: 5000, protocol: 'TCP' }],
      endpoints: [
        {
          addresses: ['10.0.0.1'],
          conditions: { ready: false, terminating: true },
          nodeName: 'w1',
          zone: 'z1',
          targetRef: { kind: 'Pod', namespace: 'sample', name: 'helloworld-w1' },
        },
      ],
    });
  });

  it('puts objects without a namespace in "default"', () => {
    const raw = service('web');
    delete (raw['metadata'] as Record<string, unknown>)['namespace'];
    expect([...buildSnapshot([raw]).snapshot.services.keys()]).toEqual(['default/web']);
  });

  it('returns deeply frozen objects', () => {
    const { snapshot } = buildSnapshot([service('web'), slice('web-1', { service: 'web', endpoints: [ep('10.0.0.1', 'w1')] })]);
    const svc = snapshot.services.get('sample/web');
    expect(Object.isFrozen(svc)).toBe(true);
    expect(Object.isFrozen(svc?.ports[0])).toBe(true);
    expect(Object.isFrozen(snapshot.endpointSlices.get('sample/web')?.[0]?.endpoints[0]?.conditions)).toBe(true);
  });

  it('flattens List objects as kubectl get -o yaml writes them', () => {
    const { snapshot } = buildSnapshot([
      { apiVersion: 'v1', kind: 'List', items: [node('w1'), { kind: 'NodeList', items: [node('w2')] }] },
    ]);
    expect([...snapshot.nodes.keys()].sort()).toEqual(['w1', 'w2']);
  });

  it('skips kinds it does not read, and same-named kinds of other API groups', () => {
    const { snapshot, rejected } = buildSnapshot([
      { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x' } },
      { apiVersion: 'serving.knative.dev/v1', kind: 'Service', metadata: { name: 'kn' }, spec: {} },
      service('web'),
    ]);
    expect(rejected).toEqual([]);
    expect([...snapshot.services.keys()]).toEqual(['sample/web']);
  });

  const withSpec = (patch: Record<string, unknown>): Record<string, unknown> => {
    const raw = service('web');
    return { ...raw, spec: { ...(raw['spec'] as Record<string, unknown>), ...patch } };
  };
  const withMetadata = (raw: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> => ({
    ...raw,
    metadata: { ...(raw['metadata'] as Record<string, unknown>), ...patch },
  });

  it.each([
    { name: 'not an object', code: 'not-an-object', raw: 'hello', kind: '', object: '', message: 'not an object' },
    { name: 'no kind', code: 'missing-kind', raw: { metadata: { name: 'x' } }, kind: '', object: 'x', message: 'missing kind' },
    {
      name: 'no metadata.name',
      code: 'missing-field',
      raw: { kind: 'Node', metadata: {} },
      kind: 'Node',
      object: '',
      message: 'metadata.name: missing',
    },
    {
      name: 'unparseable clusterIP',
      code: 'bad-ip',
      raw: withSpec({ clusterIP: '10.96.0.300' }),
      kind: 'Service',
      object: 'sample/web',
      message: 'spec.clusterIP: unparseable IP "10.96.0.300"',
    },
    {
      name: 'IPv4 with leading zeros',
      code: 'bad-ip',
      raw: withSpec({ clusterIP: '010.96.0.1' }),
      kind: 'Service',
      object: 'sample/web',
      message: 'spec.clusterIP: unparseable IP "010.96.0.1"',
    },
    {
      name: 'clusterIP differing from clusterIPs[0]',
      code: 'bad-ip',
      raw: withSpec({ clusterIP: '10.96.0.1', clusterIPs: ['10.96.0.2'] }),
      kind: 'Service',
      object: 'sample/web',
      message: 'spec.clusterIP: "10.96.0.1" differs from spec.clusterIPs[0] "10.96.0.2"',
    },
    {
      name: 'two VIPs of one family',
      code: 'bad-ip',
      raw: withSpec({ clusterIP: '10.96.0.1', clusterIPs: ['10.96.0.1', '10.96.0.2'] }),
      kind: 'Service',
      object: 'sample/web',
      message: 'spec.clusterIPs[1]: a second IPv4 address',
    },
    {
      name: 'port 0',
      code: 'bad-port',
      raw: withSpec({ ports: [{ name: 'x', port: 0 }] }),
      kind: 'Service',
      object: 'sample/web',
      message: 'spec.ports[0].port: expected a port number 1-65535, got a number',
    },
    {
      name: 'port as a string',
      code: 'bad-port',
      raw: withSpec({ ports: [{ name: 'x', port: '80' }] }),
      kind: 'Service',
      object: 'sample/web',
      message: 'spec.ports[0].port: expected a port number 1-65535, got "80"',
    },
    {
      name: 'port missing',
      code: 'missing-field',
      raw: withSpec({ ports: [{ name: 'x' }] }),
      kind: 'Service',
      object: 'sample/web',
      message: 'spec.ports[0].port: missing',
    },
    {
      name: 'unknown protocol',
      code: 'unknown-enum',
      raw: withSpec({ ports: [{ name: 'x', port: 80, protocol: 'QUIC' }] }),
      kind: 'Service',
      object: 'sample/web',
      message: 'spec.ports[0].protocol: unknown protocol "QUIC"',
    },
    {
      name: 'duplicate port names',
      code: 'duplicate-port',
      raw: withSpec({
        ports: [
          { name: 'x', port: 80 },
          { name: 'x', port: 81 },
        ],
      }),
      kind: 'Service',
      object: 'sample/web',
      message: 'spec.ports[1].name: duplicate port name "x"',
    },
    {
      name: 'a label that is not a string',
      code: 'wrong-type',
      raw: withMetadata(node('w1'), { labels: { 'topology.kubernetes.io/zone': 1 } }),
      kind: 'Node',
      object: 'w1',
      message: 'metadata.labels[topology.kubernetes.io/zone]: expected a string, got a number',
    },
    {
      name: 'a slice without the service-name label',
      code: 'missing-field',
      raw: withMetadata(slice('s1', { service: 'web', endpoints: [] }), { labels: {} }),
      kind: 'EndpointSlice',
      object: 'sample/s1',
      message: 'metadata.labels[kubernetes.io/service-name]: missing, so the slice belongs to no Service',
    },
    {
      name: 'an IPv6 address in an IPv4 slice',
      code: 'bad-ip',
      raw: slice('s1', { service: 'web', endpoints: [ep('fd00::1', 'w1')] }),
      kind: 'EndpointSlice',
      object: 'sample/s1',
      message: 'endpoints[0].addresses[0]: fd00::1 is not an IPv4 address',
    },
    {
      name: 'an unknown addressType',
      code: 'unknown-enum',
      raw: slice('s1', { service: 'web', addressType: 'IPX', endpoints: [] }),
      kind: 'EndpointSlice',
      object: 'sample/s1',
      message: 'addressType: unknown address type "IPX"',
    },
    {
      name: 'a condition that is not a boolean',
      code: 'wrong-type',
      raw: { ...slice('s1', { service: 'web', endpoints: [] }), endpoints: [{ addresses: ['10.0.0.1'], conditions: { ready: 'yes' } }] },
      kind: 'EndpointSlice',
      object: 'sample/s1',
      message: 'endpoints[0].conditions.ready: expected true or false, got "yes"',
    },
    {
      name: 'an EndpointSlice of an unsupported version',
      code: 'unsupported-api-version',
      raw: { ...slice('s1', { service: 'web', endpoints: [] }), apiVersion: 'discovery.k8s.io/v1beta1' },
      kind: 'EndpointSlice',
      object: 'sample/s1',
      message: 'unsupported apiVersion "discovery.k8s.io/v1beta1"; nearby reads discovery.k8s.io/v1',
    },
  ])('rejects $name', ({ raw, code, kind, object, message }) => {
    const { snapshot, rejected } = buildSnapshot([node('good'), raw, service('fine')]);
    expect(rejected).toEqual([{ code, kind, name: object, index: 1, message }]);
    // One bad object never keeps the others out.
    expect(snapshot.nodes.has('good')).toBe(true);
    expect(snapshot.services.has('sample/fine')).toBe(true);
  });

  it('rejects a duplicate and keeps the first', () => {
    const { snapshot, rejected } = buildSnapshot([node('w1', { zone: 'first' }), node('w1', { zone: 'second' })]);
    const message = 'duplicate Node w1; the first one is kept';
    expect(rejected).toEqual([{ code: 'duplicate', kind: 'Node', name: 'w1', index: 1, message }]);
    expect(snapshot.nodes.get('w1')?.labels['topology.kubernetes.io/zone']).toBe('first');
  });

  it('convertObject reports ignored kinds', () => {
    expect(convertObject({ kind: 'Pod', metadata: { name: 'p' } })).toEqual({ status: 'ignored' });
  });
});

describe('parseIp', () => {
  it.each([
    { text: '10.0.0.1', expected: { address: '10.0.0.1', family: 4 } },
    { text: '0.0.0.0', expected: { address: '0.0.0.0', family: 4 } },
    { text: 'FD00:0:0:0:0:0:0:1', expected: { address: 'fd00::1', family: 6 } },
    { text: '2001:db8:0:0:1:0:0:1', expected: { address: '2001:db8::1:0:0:1', family: 6 } },
    { text: '2001:0db8:0000:0001:0000:0000:0000:0001', expected: { address: '2001:db8:0:1::1', family: 6 } },
    { text: '::', expected: { address: '::', family: 6 } },
    { text: '::1', expected: { address: '::1', family: 6 } },
    { text: 'fd00:1:2:3:4:5:6:0', expected: { address: 'fd00:1:2:3:4:5:6:0', family: 6 } },
    { text: '::ffff:10.0.0.1', expected: { address: '::ffff:10.0.0.1', family: 6 } },
    { text: '10.0.0', expected: null },
    { text: '10.0.0.256', expected: null },
    { text: '01.0.0.1', expected: null },
    { text: 'fd00::1::2', expected: null },
    { text: 'fd00:1:2:3:4:5:6:7:8', expected: null },
    { text: '1:2:3:4:5:6:7::8', expected: null },
    { text: 'fd00::g', expected: null },
    { text: 'None', expected: null },
    { text: '', expected: null },
  ])('$text', ({ text, expected }) => {
    expect(parseIp(text)).toEqual(expected);
  });
});
