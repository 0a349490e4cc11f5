// nearbyctl create-remote-secret without a cluster: the remote side's manifests grant exactly
// read access to Services, EndpointSlices and Nodes, and the printed Secret is one the agent reads.
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { remoteSecretManifest } from '../../../cmd/ctl/remote-secret.js';
import { runNearbyctl } from '../../../cmd/ctl/run.js';
import { readRemoteSecret } from '../../../pkg/source/index.js';

async function ctl(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runNearbyctl(argv, { out: (t) => out.push(t), err: (t) => err.push(t) }, {});
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('nearbyctl create-remote-secret', () => {
  it('--print-remote-rbac prints a ServiceAccount, a read-only ClusterRole, its binding and a token Secret', async () => {
    const { code, out } = await ctl(['create-remote-secret', '--print-remote-rbac', '--namespace', 'mesh']);
    expect(code).toBe(0);
    const objects = parseAllDocuments(out).map(
      (d) => d.toJS() as { kind: string; metadata: { name: string; namespace?: string } } & Record<string, unknown>,
    );
    expect(objects.map((o) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`)).toEqual([
      'ServiceAccount/mesh/nearby-remote-reader',
      'ClusterRole//nearby-remote-reader',
      'ClusterRoleBinding//nearby-remote-reader',
      'Secret/mesh/nearby-remote-reader-token',
    ]);
    const rules = objects[1]!['rules'] as Array<{ apiGroups: string[]; resources: string[]; verbs: string[] }>;
    const grants = rules
      .flatMap((r) => r.apiGroups.flatMap((g) => r.resources.flatMap((res) => r.verbs.map((v) => `${g}/${res}:${v}`))))
      .sort();
    expect(grants).toEqual(
      ['/nodes', '/services', 'discovery.k8s.io/endpointslices'].flatMap((r) => ['get', 'list', 'watch'].map((v) => `${r}:${v}`)).sort(),
    );
    expect(objects[2]!['subjects']).toEqual([{ kind: 'ServiceAccount', name: 'nearby-remote-reader', namespace: 'mesh' }]);
    expect(objects[3]).toMatchObject({
      type: 'kubernetes.io/service-account-token',
      metadata: { annotations: { 'kubernetes.io/service-account.name': 'nearby-remote-reader' } },
    });
  });

  it("the Secret is istioctl's format, and the agent reads it", () => {
    const secret = remoteSecretManifest({
      name: 'cluster2',
      namespace: 'istio-system',
      server: 'https://10.0.0.2:6443',
      caPem: 'PEM',
      token: 't0k',
    });
    expect(secret.metadata).toEqual({
      name: 'istio-remote-secret-cluster2',
      namespace: 'istio-system',
      labels: { 'istio/multiCluster': 'true' },
      annotations: { 'networking.istio.io/cluster': 'cluster2' },
    });
    const reading = readRemoteSecret(secret);
    expect(reading.problems).toEqual([]);
    expect(reading.clusters).toHaveLength(1);
    const kc = reading.clusters[0]!.kubeConfig;
    expect(reading.clusters[0]!.cluster).toBe('cluster2');
    expect(kc.getCurrentCluster()?.server).toBe('https://10.0.0.2:6443');
    expect(kc.getCurrentUser()?.token).toBe('t0k');
  });

  it('refuses a missing or invalid --name', async () => {
    expect((await ctl(['create-remote-secret'])).code).toBe(2);
    const bad = await ctl(['create-remote-secret', '--name', 'a/b']);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/not a cluster name/);
  });
});
