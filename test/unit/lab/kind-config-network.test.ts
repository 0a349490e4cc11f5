// Seed 003's kind config: its own pod and Service subnets, node labels from kubeadmConfigPatches
// (kubeadm v1beta3 map and v1beta4 list forms), node images accepted and apiServerAddress ignored,
// each said once; anything else refused by the name of its field.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readDocuments } from '../../../lab/documents.js';
import { LabError } from '../../../lab/errors.js';
import { PodNetwork, ServiceAddresses } from '../../../lab/ipam.js';
import { planCluster } from '../../../lab/kind-config.js';

const SEED_003 = join(import.meta.dirname, '../../../deploy/samples/seed-003/kind-cluster1.yaml');
const API = 'kind.x-k8s.io/v1alpha4';
const REGION = 'topology.kubernetes.io/region';
const ZONE = 'topology.kubernetes.io/zone';

const joinPatch = (extraArgs: string): string => `kind: JoinConfiguration\nnodeRegistration:\n  kubeletExtraArgs:\n${extraArgs}`;
const plan = (doc: Record<string, unknown>) => planCluster({ apiVersion: API, kind: 'Cluster', ...doc }, 'c');
const refused = (doc: Record<string, unknown>, field: RegExp): void => {
  let error: unknown;
  try {
    plan(doc);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(LabError);
  expect((error as LabError).code).toBe('invalid');
  expect((error as LabError).message).toMatch(field);
};

describe("seed 003's kind config as written", () => {
  const [doc] = readDocuments([SEED_003]);
  const cluster = planCluster(doc!.object, 'cluster1');

  it('labels the workers from kubeadmConfigPatches node-labels, and the control plane not', () => {
    const [cp, w1, w2] = cluster.nodes;
    expect(cluster.nodes.map((n) => n.name)).toEqual(['cluster1-control-plane', 'cluster1-worker', 'cluster1-worker2']);
    expect(w1!.labels).toMatchObject({ [REGION]: 'az01', [ZONE]: 'az01', 'kubernetes.io/hostname': 'cluster1-worker' });
    expect(w2!.labels).toMatchObject({ [REGION]: 'az02', [ZONE]: 'az02' });
    expect(cp!.labels[REGION]).toBeUndefined();
  });

  it('takes its podSubnet and serviceSubnet', () => {
    expect(cluster.network).toEqual({ podSubnet: '10.10.0.0/16', serviceSubnet: '10.11.0.0/16' });
  });

  it('notes the node image and apiServerAddress once each', () => {
    expect(cluster.notes).toHaveLength(2);
    expect(cluster.notes.filter((n) => n.includes('apiServerAddress'))).toHaveLength(1);
    expect(cluster.notes.filter((n) => n.includes('registry.cn-hangzhou.aliyuncs.com/seam/node:v1.24.15'))).toHaveLength(1);
  });
});

describe('kubeadmConfigPatches node-labels', () => {
  it('reads the kubeadm v1beta4 list of {name, value}', () => {
    const patch = `apiVersion: kubeadm.k8s.io/v1beta4\n${joinPatch('  - name: node-labels\n    value: "a=1,b.example/c=2"\n')}`;
    const c = plan({ nodes: [{ role: 'control-plane' }, { role: 'worker', kubeadmConfigPatches: [patch] }] });
    expect(c.nodes[1]!.labels).toMatchObject({ a: '1', 'b.example/c': '2' });
  });

  it('applies InitConfiguration to the first control plane and JoinConfiguration to the others, cluster-wide patches too', () => {
    const init = 'kind: InitConfiguration\nnodeRegistration:\n  kubeletExtraArgs:\n    node-labels: "init=yes"\n';
    const join = joinPatch('    node-labels: "joined=yes"\n');
    const c = plan({
      kubeadmConfigPatches: [init, join],
      nodes: [{ role: 'control-plane' }, { role: 'control-plane' }, { role: 'worker' }],
    });
    expect(c.nodes.map((n) => [n.labels['init'], n.labels['joined']])).toEqual([
      ['yes', undefined],
      [undefined, 'yes'],
      [undefined, 'yes'],
    ]);
  });

  it('lets a node labels: entry win over node-labels, as kind labels after join', () => {
    const c = plan({
      nodes: [
        {
          role: 'control-plane',
          kubeadmConfigPatches: ['kind: InitConfiguration\nnodeRegistration:\n  kubeletExtraArgs:\n    node-labels: "x=patch"\n'],
          labels: { x: 'labels' },
        },
      ],
    });
    expect(c.nodes[0]!.labels['x']).toBe('labels');
  });

  it('refuses what it cannot apply, by field', () => {
    const node = (patch: unknown) => ({ nodes: [{ role: 'control-plane', kubeadmConfigPatches: [patch] }] });
    refused(node('kind: ClusterConfiguration\n'), /kubeadmConfigPatches\[0\]\.kind "ClusterConfiguration"/);
    refused(node(joinPatch('    max-pods: "10"\n')), /kubeletExtraArgs: max-pods/);
    refused(node('kind: JoinConfiguration\nnodeRegistration:\n  taints: []\n'), /nodeRegistration\.taints/);
    refused(node(joinPatch('    node-labels: "novalue"\n')), /node-labels: "novalue" is not a key=value label/);
    refused(node(joinPatch('    node-labels: "a=b c"\n')), /label a has an invalid value/);
    refused(node({ kind: 'JoinConfiguration' }), /kubeadmConfigPatches\[0\]: expected a YAML string/);
    refused(node('apiVersion: kubeadm.k8s.io/v1beta1\nkind: JoinConfiguration\n'), /apiVersion "kubeadm.k8s.io\/v1beta1"/);
  });
});

describe('kind networking', () => {
  it("defaults to kind's subnets", () => {
    expect(plan({}).network).toEqual({ podSubnet: '10.244.0.0/16', serviceSubnet: '10.96.0.0/16' });
  });

  it('refuses bad, overlapping or IPv6 subnets and unknown fields by name', () => {
    refused({ networking: { podSubnet: '10.10.0.0/24' } }, /networking\.podSubnet "10.10.0.0\/24": .*\/8 to \/16/);
    refused({ networking: { podSubnet: '10.10.1.0/16' } }, /networking\.podSubnet .*host bits/);
    refused({ networking: { serviceSubnet: '10.11.0.0' } }, /networking\.serviceSubnet "10.11.0.0": expected an IPv4 CIDR/);
    refused({ networking: { serviceSubnet: 'fd00::/108' } }, /serviceSubnet .*IPv4 only/);
    refused({ networking: { podSubnet: '10.0.0.0/8', serviceSubnet: '10.11.0.0/16' } }, /overlap/);
    refused({ networking: { ipFamily: 'ipv6' } }, /networking\.ipFamily: not supported/);
    refused({ featureGates: {} }, /kind Cluster\.featureGates: not supported/);
    refused({ nodes: [{ role: 'control-plane', extraMounts: [] }] }, /nodes\[0\]\.extraMounts: not supported/);
    refused({ nodes: [{ role: 'control-plane', image: 7 }] }, /nodes\[0\]\.image/);
  });

  it('hands out pod and Service addresses from the configured subnets', () => {
    const pods = new PodNetwork('10.10.0.0/16');
    expect(pods.nodeCidr(2)).toBe('10.10.2.0/24');
    expect(pods.bridgeAddress).toBe('10.10.255.254');
    expect(pods.nodeAddresses(1).allocate()).toBe('10.10.1.2');
    expect(new PodNetwork('172.16.0.0/12').nodeCidr(0)).toBe('172.16.0.0/24');

    const services = new ServiceAddresses('10.11.0.0/16');
    for (let i = 0; i < 200; i++) expect(services.allocate()).toMatch(/^10\.11\.\d+\.\d+$/);
    expect(services.allocate('10.11.3.4')).toBe('10.11.3.4');
    expect(() => services.allocate('10.96.3.4')).toThrow(/not in the service CIDR 10.11.0.0\/16/);
    expect(() => services.allocate('10.11.0.1')).toThrow(/already allocated/);
    expect(() => services.allocate('10.11.0.10')).toThrow(/already allocated/);
  });
});
