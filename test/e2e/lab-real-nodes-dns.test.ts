// Cluster DNS on the real-node lab (issue 17, docs/real-nodes.md step 4): `lab up --real-nodes`
// applies CoreDNS as a Deployment behind kube-dns and waits for it; the kubelets point pods at
// kube-dns, and only nearby serves its VIP (no kube-proxy; a pod has no route to the Service range).
// A pod on one node resolves the seed's helloworld Service by name over UDP and TCP, from CoreDNS
// replicas on either node, and connects to it by that name. Names outside the cluster get
// SERVFAIL: nothing is forwarded off the machine.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterDnsAddress } from '../../lab/ipam.js';
import {
  readRecord,
  labUp,
  resolveControlPlaneBinaries,
  resolveNodeBinaries,
  resolvePauseImage,
  type LabClient,
  type LabRecord,
} from '../../lab/index.js';
import { DEFAULT_SERVICE_CIDR } from '../../lab/control-plane/index.js';
import { ifSetUp } from '../fixtures/if-set-up.js';
import { newTopLevelCgroups, topLevelCgroups } from './cgroup-roots.js';
import { assertLabPrereqs, downExpectingNothingLeft, REAL_NODE_LAB_DOWN_MS, sample } from './lab-fixture.js';
import { podProcessNamed, runInContainer } from './real-node-pods.js';

const NAME = `e2e-dns-${process.pid}`;
// A pod range of its own, not kind's default: the test's nodes and pods share no address with
// another lab left running on the same machine on the default range.
const CLUSTER = `kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
name: ${NAME}
networking:
  podSubnet: 10.246.0.0/16
nodes:
  - role: control-plane
  - role: worker
`;
const NODES = [`${NAME}-control-plane`, `${NAME}-worker`];
const AGNHOST = 'registry.k8s.io/e2e-test-images/agnhost:2.63.0';
const COREDNS = 'registry.k8s.io/coredns/coredns:v1.15.0';
const NAME_ASKED = 'helloworld.sample.svc.cluster.local';

let lab: LabClient;
let record: LabRecord | undefined;
let cgroupsBefore: string[] = [];

function kubectl(args: string[], input?: string): string {
  return execFileSync(resolveControlPlaneBinaries().kubectl, args, {
    env: { ...process.env, KUBECONFIG: join(lab.paths.stateDir, 'kubeconfig') },
    encoding: 'utf8',
    ...(input !== undefined ? { input } : {}),
  });
}

interface PodItem {
  metadata: { name: string; uid: string };
  spec: { nodeName?: string; containers: Array<{ image: string }> };
  status: { podIP?: string; conditions?: Array<{ type: string; status: string }> };
}

function nodeCgroup(node: string): string {
  return readRecord(lab.paths.record)!.nodes.find((n) => n.name === node)!.cgroup;
}

/** agnhost (dig, curl, getent, ip) idling on `node`, the DNS client. */
function clientPod(node: string): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'dns-client', namespace: 'sample' },
    spec: {
      nodeSelector: { 'kubernetes.io/hostname': node },
      tolerations: [{ operator: 'Exists' }],
      terminationGracePeriodSeconds: 0,
      containers: [{ name: 'agnhost', image: AGNHOST, imagePullPolicy: 'Never', args: ['pause'] }],
    },
  });
}

beforeAll(async () => {
  resolveNodeBinaries();
  resolvePauseImage();
  await assertLabPrereqs();
  cgroupsBefore = topLevelCgroups();
  const up = await labUp({ text: CLUSTER, name: NAME, timeoutMs: 300_000, controlPlane: true, realNodes: true });
  lab = up.lab;
  record = readRecord(lab.paths.record);
  console.log(`lab up with 2 real nodes and CoreDNS: ${up.elapsedMs} ms`);
}, 360_000);

afterAll(async () => {
  if (!ifSetUp(lab)) return;
  await downExpectingNothingLeft(NAME, lab, record);
  expect(newTopLevelCgroups(cgroupsBefore), 'cgroups the lab made outside nearby-lab/<lab>').toEqual([]);
}, REAL_NODE_LAB_DOWN_MS);

describe('cluster DNS on the real-node lab, through nearby', () => {
  it('runs CoreDNS Ready as lab up returns, behind kube-dns at the Service range tenth address', () => {
    const pods = (JSON.parse(kubectl(['get', 'pods', '-n', 'kube-system', '-l', 'k8s-app=kube-dns', '-o', 'json'])) as { items: PodItem[] })
      .items;
    expect(pods).toHaveLength(2);
    for (const pod of pods) {
      expect(pod.spec.containers[0]?.image).toBe(COREDNS);
      expect(pod.status.conditions?.find((c) => c.type === 'Ready')?.status, pod.metadata.name).toBe('True');
    }
    expect(kubectl(['get', 'service', 'kube-dns', '-n', 'kube-system', '-o', 'jsonpath={.spec.clusterIP}']).trim()).toBe(
      clusterDnsAddress(DEFAULT_SERVICE_CIDR),
    );
  });

  it('resolves helloworld.sample.svc.cluster.local from a pod over UDP and TCP and connects to it by name', () => {
    kubectl(['create', 'namespace', 'sample']);
    kubectl(
      ['apply', '-n', 'sample', '-f', '-'],
      [sample('helloworld-service.yaml', NAME), sample('helloworld-region.zone1.subzone1.yaml', NAME)].join('---\n'),
    );
    kubectl(['apply', '-f', '-'], clientPod(NODES[0]!));
    kubectl(['rollout', 'status', '-n', 'sample', 'deployment/helloworld-region.zone1.subzone1', '--timeout=120s']);
    kubectl(['wait', '-n', 'sample', '--for=condition=Ready', 'pod/dns-client', '--timeout=120s']);
    const client = JSON.parse(kubectl(['get', 'pod', '-n', 'sample', 'dns-client', '-o', 'json'])) as PodItem;
    const hello = (JSON.parse(kubectl(['get', 'pods', '-n', 'sample', '-l', 'app=helloworld', '-o', 'json'])) as { items: PodItem[] })
      .items[0]!;
    const pid = podProcessNamed(nodeCgroup(NODES[0]!), client.metadata.uid, 'agnhost');
    expect(pid, 'the client container process').toBeDefined();
    const run = (argv: string[]): string => runInContainer(pid!, argv);
    const vip = kubectl(['get', 'service', '-n', 'sample', 'helloworld', '-o', 'jsonpath={.spec.clusterIP}']).trim();
    const dnsVip = clusterDnsAddress(DEFAULT_SERVICE_CIDR);

    // The kubelet's clusterDNS and clusterDomain in the pod's resolv.conf.
    const resolv = run(['cat', '/etc/resolv.conf']);
    expect(resolv).toContain(`nameserver ${dnsVip}`);
    expect(resolv).toContain('search sample.svc.cluster.local svc.cluster.local cluster.local');
    // No kube-proxy and no route to the Service range: only nearby can deliver to the kube-dns VIP.
    expect(() => run(['ip', 'route', 'get', dnsVip])).toThrow(/unreachable/i);

    // Several queries each, so both CoreDNS replicas (one per node) are likely asked.
    for (let i = 0; i < 4; i++) {
      expect(run(['dig', '+short', '+notcp', '+tries=1', NAME_ASKED]), `UDP query ${i}`).toBe(vip);
      expect(run(['dig', '+short', '+tcp', '+tries=1', NAME_ASKED]), `TCP query ${i}`).toBe(vip);
    }
    // glibc's resolver (connected UDP) with the search path, as applications ask.
    expect(run(['getent', 'hosts', 'helloworld'])).toMatch(new RegExp(`^${vip.replaceAll('.', '\\.')}\\s+${NAME_ASKED}$`));
    expect(run(['curl', '-sS', '--max-time', '5', `http://${NAME_ASKED}:5000/hello`])).toBe(
      `Hello version: region.zone1.subzone1, instance: ${hello.metadata.name}`,
    );
    // Nothing leaves the machine: a name outside the cluster is refused by CoreDNS itself.
    expect(run(['dig', '+tries=1', 'example.com'])).toMatch(/status: SERVFAIL/);
  }, 240_000);
});
