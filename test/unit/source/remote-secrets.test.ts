// Remote secrets as istioctl create-remote-secret writes them, and what is refused (by name).
import { describe, expect, it } from 'vitest';
import { readiness } from '../../../cmd/agent/readiness.js';
import { describeRemotes, readRemoteSecret } from '../../../pkg/source/index.js';

function kubeconfigText(server: string, user: Record<string, unknown> = { token: 'abc' }): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'c', cluster: { server, 'insecure-skip-tls-verify': true } }],
    users: [{ name: 'u', user }],
    contexts: [{ name: 'ctx', context: { cluster: 'c', user: 'u' } }],
    'current-context': 'ctx',
  });
}

const secret = (name: string, data: Record<string, unknown>, field = 'data'): Record<string, unknown> => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name, namespace: 'istio-system', labels: { 'istio/multiCluster': 'true' } },
  [field]: data,
});
const b64 = (text: string): string => Buffer.from(text).toString('base64');

describe('remote secrets', () => {
  it('reads one cluster per data key, base64 as the API serves it or stringData as istioctl prints it', () => {
    const fromApi = readRemoteSecret(secret('istio-remote-secret-c2', { c2: b64(kubeconfigText('https://10.0.0.2:6443')) }));
    expect(fromApi.problems).toEqual([]);
    expect(fromApi.clusters.map((c) => [c.cluster, c.secret, c.kubeConfig.getCurrentCluster()?.server])).toEqual([
      ['c2', 'istio-system/istio-remote-secret-c2', 'https://10.0.0.2:6443'],
    ]);
    const printed = readRemoteSecret(secret('s', { c3: kubeconfigText('https://10.0.0.3:6443') }, 'stringData'));
    expect(printed.clusters.map((c) => c.cluster)).toEqual(['c3']);
  });

  it('refuses a malformed kubeconfig by secret and key, and keeps the other keys', () => {
    const reading = readRemoteSecret(
      secret('mixed', {
        good: b64(kubeconfigText('https://10.0.0.2:6443')),
        garbage: b64(':::: not yaml [['),
        noserver: b64(JSON.stringify({ apiVersion: 'v1', kind: 'Config', clusters: [], users: [], contexts: [] })),
        plugin: b64(
          kubeconfigText('https://10.0.0.4:6443', { exec: { command: '/bin/sh', apiVersion: 'client.authentication.k8s.io/v1' } }),
        ),
      }),
    );
    expect(reading.clusters.map((c) => c.cluster)).toEqual(['good']);
    expect(reading.problems.map((p) => [p.secret, p.cluster])).toEqual([
      ['istio-system/mixed', 'garbage'],
      ['istio-system/mixed', 'noserver'],
      ['istio-system/mixed', 'plugin'],
    ]);
    expect(reading.problems[2]?.message).toMatch(/exec or auth-provider/);
    expect(readRemoteSecret(secret('empty', {})).problems).toEqual([
      { secret: 'istio-system/empty', message: expect.stringMatching(/no data key/) as string },
    ]);
  });

  it('a stale or refused remote leaves the node ready and the reason names it', () => {
    const degraded = describeRemotes({
      synced: true,
      clusters: [
        { cluster: 'c2', secret: 'istio-system/s2', synced: true, stale: 'API server unreachable: connect ECONNREFUSED' },
        { cluster: 'c3', secret: 'istio-system/s3', synced: true },
      ],
      problems: [{ secret: 'istio-system/bad', cluster: 'x', message: 'not a kubeconfig' }],
    });
    expect(degraded).toBe(
      'remote cluster c2 stale (last known endpoints kept): API server unreachable: connect ECONNREFUSED; ' +
        'remote secret istio-system/bad cluster x rejected: not a kubeconfig',
    );
    const completed = { desired: 3, desiredServices: 3, failures: [], warnings: {} } as unknown as Parameters<typeof readiness>[3];
    const result = readiness('w1', { synced: true, lastSyncMs: 1, ...(degraded ? { degraded } : {}) }, undefined, completed);
    expect(result).toEqual({ ready: true, reason: `3 services intercepted (3 VIP:port entries); ${degraded}` });
  });
});
