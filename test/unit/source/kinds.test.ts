// The one table of watched kinds, as the API server names them, and as the model and the file
// source use it.
import { describe, expect, it } from 'vitest';
import { convertObject } from '../../../pkg/model/index.js';
import { isWatchedKind, kindInfo, parseManifest, WATCHED_KINDS } from '../../../pkg/source/index.js';

describe('watched kinds', () => {
  it('derive the apiVersion and the cluster-wide path the API server serves', () => {
    expect(WATCHED_KINDS.map((k) => [k.kind, k.apiVersion, k.path, k.namespaced])).toEqual([
      ['Node', 'v1', '/api/v1/nodes', false],
      ['Service', 'v1', '/api/v1/services', true],
      ['EndpointSlice', 'discovery.k8s.io/v1', '/apis/discovery.k8s.io/v1/endpointslices', true],
      ['Namespace', 'v1', '/api/v1/namespaces', false],
    ]);
  });

  it('are what the model converts, at the table apiVersion, and reject another version of the group', () => {
    for (const { kind, apiVersion, group } of WATCHED_KINDS) {
      const raw = { apiVersion, kind, metadata: { name: 'x', labels: { 'kubernetes.io/service-name': 'x' } }, addressType: 'IPv4' };
      expect(convertObject(raw).status, kind).toBe('accepted');
      const older = convertObject({ ...raw, apiVersion: group ? `${group}/v1beta1` : 'v0' });
      expect(older.status === 'rejected' && older.rejection.code, kind).toBe('unsupported-api-version');
    }
    expect(convertObject({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x' } }).status).toBe('ignored');
  });

  it('are what a manifest file keeps, with the apiVersion filled in when it is left out', () => {
    const objects = parseManifest('m.yaml', 'kind: EndpointSlice\nmetadata: {name: a}\n---\nkind: Deployment\nmetadata: {name: b}\n');
    expect(objects.map((o) => [o['kind'], o['apiVersion']])).toEqual([['EndpointSlice', kindInfo('EndpointSlice').apiVersion]]);
    expect(isWatchedKind('Namespace')).toBe(true);
    expect(isWatchedKind('toString')).toBe(false);
  });
});
