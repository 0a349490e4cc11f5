// Several kind configs as one lab: each cluster keeps its name and its nodes' kind names, pods
// get distinct ranges on the one flat network (kind's shared default moved, Service ranges left
// overlapping), each cluster knows the others' pod ranges, and the kubeconfig holds kind-<name>
// contexts with each cluster's own server and credentials.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { LabError } from '../../../lab/errors.js';
import { distinctPodSubnets } from '../../../lab/ipam.js';
import { kindContext, mergeKubeconfigs, planLabSet } from '../../../lab/lab-set.js';
import { bridgeLinkDevice } from '../../../lab/pod-network.js';

const API = 'kind.x-k8s.io/v1alpha4';
const cluster = (name: string, nodes: string[], networking?: Record<string, string>): Record<string, unknown> => ({
  kind: 'Cluster',
  apiVersion: API,
  name,
  nodes: nodes.map((role) => ({ role })),
  ...(networking ? { networking } : {}),
});

describe('planLabSet', () => {
  it("names nodes per cluster as kind does and moves the second cluster's default pod range", () => {
    const set = planLabSet([cluster('cluster1', ['control-plane', 'worker']), cluster('cluster2', ['control-plane', 'worker', 'worker'])]);
    expect(set.members.map((m) => m.plan.nodes.map((n) => n.name))).toEqual([
      ['cluster1-control-plane', 'cluster1-worker'],
      ['cluster2-control-plane', 'cluster2-worker', 'cluster2-worker2'],
    ]);
    expect(set.members.map((m) => m.plan.network)).toEqual([
      { podSubnet: '10.244.0.0/16', serviceSubnet: '10.96.0.0/16' },
      { podSubnet: '10.245.0.0/16', serviceSubnet: '10.96.0.0/16' },
    ]);
    expect(set.members.map((m) => m.peerRanges)).toEqual([['10.245.0.0/16'], ['10.244.0.0/16']]);
    expect(set.notes).toHaveLength(1);
    expect(set.notes[0]).toMatch(/cluster2: podSubnet 10\.244\.0\.0\/16 .* 10\.245\.0\.0\/16/);
  });

  it('keeps pod ranges that are already distinct, and never moves one onto a Service range', () => {
    const kept = planLabSet([cluster('a', ['control-plane'], { podSubnet: '10.10.0.0/16' }), cluster('b', ['control-plane'])]);
    expect(kept.members.map((m) => m.plan.network.podSubnet)).toEqual(['10.10.0.0/16', '10.244.0.0/16']);
    expect(kept.notes).toEqual([]);
    const { networks } = distinctPodSubnets([
      { podSubnet: '10.244.0.0/16', serviceSubnet: '10.96.0.0/16' },
      { podSubnet: '10.244.0.0/16', serviceSubnet: '10.245.0.0/16' },
      { podSubnet: '10.244.0.0/16', serviceSubnet: '10.96.0.0/16' },
    ]);
    expect(networks.map((n) => n.podSubnet)).toEqual(['10.244.0.0/16', '10.246.0.0/16', '10.247.0.0/16']);
  });

  it('refuses configs without a name, or with the same name twice', () => {
    const unnamed = { kind: 'Cluster', apiVersion: API };
    expect(() => planLabSet([cluster('a', ['control-plane']), unnamed])).toThrow(LabError);
    expect(() => planLabSet([cluster('a', ['control-plane']), unnamed])).toThrow(/has no name/);
    expect(() => planLabSet([cluster('a', ['control-plane']), cluster('a', ['control-plane'])])).toThrow(
      /two kind Cluster configs are named a/,
    );
  });
});

describe('mergeKubeconfigs', () => {
  it("holds each cluster's server and credentials under kind's context names, the last one current", () => {
    const dir = mkdtempSync(join(tmpdir(), 'lab-set-'));
    const own = (server: string, token: string): string => {
      const file = join(dir, `${token}.kubeconfig`);
      writeFileSync(
        file,
        stringify({
          apiVersion: 'v1',
          kind: 'Config',
          clusters: [{ name: 'nearby-lab', cluster: { server, 'certificate-authority-data': 'Q0E=' } }],
          users: [{ name: 'nearby-lab-admin', user: { token } }],
          contexts: [{ name: 'nearby-lab-admin', context: { cluster: 'nearby-lab', user: 'nearby-lab-admin' } }],
          'current-context': 'nearby-lab-admin',
        }),
      );
      return file;
    };
    const merged = parse(
      mergeKubeconfigs([
        ['cluster1', own('https://127.0.0.1:1001', 't1')],
        ['cluster2', own('https://127.0.0.1:1002', 't2')],
      ]),
    ) as {
      clusters: Array<{ name: string; cluster: { server: string } }>;
      users: Array<{ name: string; user: { token: string } }>;
      contexts: Array<{ name: string; context: { cluster: string; user: string } }>;
      'current-context': string;
    };
    expect(merged.contexts.map((c) => c.name)).toEqual([kindContext('cluster1'), 'kind-cluster2']);
    expect(merged.contexts[0]!.context).toEqual({ cluster: 'kind-cluster1', user: 'kind-cluster1' });
    expect(merged.clusters.map((c) => [c.name, c.cluster.server])).toEqual([
      ['kind-cluster1', 'https://127.0.0.1:1001'],
      ['kind-cluster2', 'https://127.0.0.1:1002'],
    ]);
    expect(merged.users.map((u) => [u.name, u.user.token])).toEqual([
      ['kind-cluster1', 't1'],
      ['kind-cluster2', 't2'],
    ]);
    expect(merged['current-context']).toBe('kind-cluster2');
  });
});

describe('bridgeLinkDevice', () => {
  it('fits an interface name and tells clusters apart', () => {
    const names = ['cluster1', 'cluster2', 'a-very-long-cluster-name-of-32ch'].map(bridgeLinkDevice);
    expect(new Set(names).size).toBe(3);
    for (const n of names) expect(n.length).toBeLessThanOrEqual(15);
  });
});
