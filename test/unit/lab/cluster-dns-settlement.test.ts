// With --agents daemonset, lab up must not wait for CoreDNS (no ClusterIP is served before nearby
// is installed): the settlement leaves the add-on out, and only the add-on.
import { describe, expect, it } from 'vitest';
import { clusterDnsObjects, COREDNS_DEPLOYMENT, withoutClusterDns } from '../../../lab/addons/index.js';
import { apiSettlement, type ApiLists } from '../../../lab/kubelet/api-settlement.js';

const deployment = (namespace: string, name: string) => ({
  metadata: { namespace, name, generation: 1 },
  spec: { replicas: 2 },
  status: { observedGeneration: 1, replicas: 2, updatedReplicas: 2, readyReplicas: 0 },
});
const pod = (namespace: string, name: string, labels: Record<string, string>) => ({
  metadata: { namespace, name, labels },
  status: { phase: 'Running', podIP: '10.244.0.9', conditions: [{ type: 'Ready', status: 'False' }] },
});
const service = (namespace: string, name: string, selector: Record<string, string>) => ({
  metadata: { namespace, name },
  spec: { selector },
});

const lists: ApiLists = {
  deployments: [deployment('kube-system', 'coredns'), deployment('sample', 'coredns')],
  replicaSets: [],
  pods: [pod('kube-system', 'coredns-a', { 'k8s-app': 'kube-dns' }), pod('sample', 'web-a', { 'k8s-app': 'kube-dns' })] as never,
  services: [service('kube-system', 'kube-dns', { 'k8s-app': 'kube-dns' })],
  endpointSlices: [
    {
      metadata: { namespace: 'kube-system', name: 'kube-dns-x', labels: { 'kubernetes.io/service-name': 'kube-dns' } },
      endpoints: [{ addresses: ['10.244.0.9'], conditions: { ready: true } }],
    },
  ],
};

describe('the cluster DNS add-on in the settlement', () => {
  it('names the Deployment and pod label the add-on file has', () => {
    const d = clusterDnsObjects('10.96.0.10').find((o) => o.kind === 'Deployment') as {
      metadata: { name: string; namespace: string };
      spec: { template: { metadata: { labels: Record<string, string> } } };
    };
    expect([d.metadata.namespace, d.metadata.name]).toEqual([COREDNS_DEPLOYMENT.namespace, COREDNS_DEPLOYMENT.name]);
    expect(d.spec.template.metadata.labels[COREDNS_DEPLOYMENT.podLabel[0]]).toBe(COREDNS_DEPLOYMENT.podLabel[1]);
  });

  it('waits for an unready CoreDNS as for any Deployment', () => {
    const { waiting } = apiSettlement(lists);
    expect(waiting.filter((w) => w.includes('kube-system'))).toHaveLength(3);
  });

  it('leaves out only kube-system coredns, its pods and kube-dns', () => {
    const { waiting } = apiSettlement(withoutClusterDns(lists));
    expect(waiting).toEqual(['deployment sample/coredns: 0/2 ready, 2 updated, 2 in all', 'pod sample/web-a: not ready']);
  });
});
