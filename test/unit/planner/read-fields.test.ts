import { describe, expect, it } from 'vitest';
import { convertObject, keepReadFields } from '../../../pkg/model/index.js';
import { ep, namespace, node, service, slice, type EndpointSpec } from './fixtures.js';

/** What an API server adds that nearby never reads. */
function asServed(raw: Record<string, unknown>): Record<string, unknown> {
  const metadata = raw['metadata'] as Record<string, unknown>;
  return {
    ...raw,
    metadata: {
      ...metadata,
      uid: '6f1c0e43-8a7a-4a9e-9d0b-2c1f3f2b7e11',
      resourceVersion: '4711',
      creationTimestamp: '2026-11-01T10:00:00Z',
      managedFields: [{ manager: 'kubectl', operation: 'Apply', fieldsV1: { 'f:spec': { 'f:ports': {} } } }],
      annotations: {
        ...((metadata['annotations'] as object | undefined) ?? {}),
        'kubectl.kubernetes.io/last-applied-configuration': '{"big":"json"}',
      },
    },
    status: { loadBalancer: {} },
  };
}

describe('keepReadFields', () => {
  const objects = [
    node('w1', { region: 'r', zone: 'z1', subzone: 's1', network: 'n1' }),
    namespace('sample', { 'networking.istio.io/traffic-distribution': 'PreferClose' }),
    service('helloworld', {
      trafficDistribution: 'PreferClose',
      internalTrafficPolicy: 'Local',
      clusterIPs: ['10.96.0.1', 'fd00::1'],
      annotations: { a: 'b' },
    }),
    slice('helloworld-abc', {
      service: 'helloworld',
      endpoints: [ep('10.244.1.10', 'w1', { ready: false, serving: true, terminating: true, zone: 'z1' })],
    }),
  ];

  it('keeps everything the model reads: the converted object is the one the manifest gives', () => {
    for (const raw of objects) expect(convertObject(keepReadFields(asServed(raw)))).toEqual(convertObject(raw));
  });

  it('drops managedFields, status, uid and the last-applied annotation', () => {
    const kept = keepReadFields(asServed(objects[2]!)) as { metadata: Record<string, unknown>; status?: unknown };
    expect(kept.metadata['managedFields']).toBeUndefined();
    expect(kept.metadata['uid']).toBeUndefined();
    expect(kept.status).toBeUndefined();
    expect(kept.metadata['annotations']).toEqual({ a: 'b' });
    // The watch cache compares resourceVersions to skip repeats.
    expect(kept.metadata['resourceVersion']).toBe('4711');
  });

  it('leaves other kinds and non-objects alone', () => {
    const pod = { kind: 'Pod', metadata: { name: 'p', managedFields: [] } };
    expect(keepReadFields(pod)).toBe(pod);
    expect(keepReadFields('text')).toBe('text');
  });
});

describe('endpoints kept as the cache holds them', () => {
  interface RawSlice {
    endpoints: Array<Record<string, unknown>>;
  }
  const endpointsOf = (raw: unknown): readonly unknown[] => {
    const conversion = convertObject(raw);
    if (conversion.status !== 'accepted' || conversion.object.kind !== 'EndpointSlice')
      throw new Error(`not accepted: ${JSON.stringify(conversion)}`);
    return conversion.object.endpointSlice.endpoints;
  };
  const served = (endpoints: EndpointSpec[], addressType = 'IPv4'): RawSlice =>
    keepReadFields(slice('web-abc', { service: 'web', addressType, endpoints })) as RawSlice;

  it('shares one conditions object between endpoints with the same conditions', () => {
    const kept = served([ep('10.244.1.10', 'w1'), ep('10.244.1.11', 'w2'), ep('10.244.1.12', 'w1', { ready: false })]);
    const [a, b, c] = kept.endpoints.map((e) => e['conditions']);
    expect(a).toBe(b);
    expect(a).not.toBe(c);
    expect(Object.isFrozen(a)).toBe(true);
  });

  it('takes a model-shaped endpoint list as it is, instead of copying it', () => {
    const kept = served([ep('10.244.1.10', 'w1'), ep('10.244.1.11', 'w2', { zone: 'z2' })]);
    expect(endpointsOf(kept)).toBe(kept.endpoints);
  });

  it('copies only the endpoints that are not in canonical form, and still names bad ones', () => {
    const kept = served([ep('fd00::10', 'w1'), ep('fd00:0:0::1', 'w2')], 'IPv6');
    const endpoints = endpointsOf(kept);
    expect(endpoints[0]).toBe(kept.endpoints[0]);
    expect(endpoints[1]).not.toBe(kept.endpoints[1]);
    expect((endpoints[1] as { addresses: string[] }).addresses).toEqual(['fd00::1']);

    const bad = served([ep('10.244.1.10', 'w1'), ep('10.244.1.300', 'w2')]);
    const conversion = convertObject(bad);
    expect(conversion.status).toBe('rejected');
    expect(conversion.status === 'rejected' && conversion.rejection.message).toMatch(/endpoints\[1\]\.addresses\[0\].*10\.244\.1\.300/);
  });

  it('copies an endpoint whose conditions are not booleans, and rejects it with the field', () => {
    const kept = served([ep('10.244.1.10', 'w1')]);
    kept.endpoints[0]!['conditions'] = { ready: 'yes' };
    const conversion = convertObject(keepReadFields(kept));
    expect(conversion.status === 'rejected' && conversion.rejection.message).toMatch(/endpoints\[0\]\.conditions\.ready/);
  });
});

describe('shared port lists', () => {
  const svc = (name: string, ports: unknown[]): Record<string, unknown> => ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: 'default' },
    spec: { clusterIP: '10.96.0.1', ports },
  });
  const portsOf = (raw: unknown): unknown => (raw as { spec: { ports: unknown } }).spec.ports;

  it('gives equal port lists one object, raw and converted, and keeps different ones apart', () => {
    const a = keepReadFields(svc('a', [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 }]));
    const b = keepReadFields(svc('b', [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 9090 }]));
    const c = keepReadFields(svc('c', [{ name: 'http', port: '80', protocol: 'TCP' }]));
    const d = keepReadFields(svc('d', [{ name: 'http', port: 81, protocol: 'TCP' }]));
    expect(portsOf(a)).toBe(portsOf(b));
    expect(portsOf(a)).toEqual([{ name: 'http', port: 80, protocol: 'TCP' }]);
    expect(portsOf(c)).not.toBe(portsOf(a));
    expect(portsOf(d)).not.toBe(portsOf(a));
    const model = (raw: unknown): unknown => {
      const conversion = convertObject(raw);
      return conversion.status === 'accepted' && conversion.object.kind === 'Service' ? conversion.object.service.ports : undefined;
    };
    expect(model(a)).toBe(model(b));
    expect(model(a)).toEqual([{ name: 'http', port: 80, protocol: 'TCP' }]);
    expect(model(d)).not.toBe(model(a));
  });
});
