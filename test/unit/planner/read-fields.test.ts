import { describe, expect, it } from 'vitest';
import { convertObject, keepReadFields } from '../../../pkg/model/index.js';
import { ep, namespace, node, service, slice } from './fixtures.js';

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
      annotations: { ...((metadata['annotations'] as object) ?? {}), 'kubectl.kubernetes.io/last-applied-configuration': '{"big":"json"}' },
    },
    status: { loadBalancer: {} },
  };
}

describe('keepReadFields', () => {
  const objects = [
    node('w1', { region: 'r', zone: 'z1', subzone: 's1', network: 'n1' }),
    namespace('sample', { 'networking.istio.io/traffic-distribution': 'PreferClose' }),
    service('helloworld', { trafficDistribution: 'PreferClose', internalTrafficPolicy: 'Local', clusterIPs: ['10.96.0.1', 'fd00::1'], annotations: { a: 'b' } }),
    slice('helloworld-abc', { service: 'helloworld', endpoints: [ep('10.244.1.10', 'w1', { ready: false, serving: true, terminating: true, zone: 'z1' })] }),
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
