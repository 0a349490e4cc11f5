// nearby's own DaemonSet on the real-node lab (issue 17, docs/real-nodes.md step 5): the lab up
// with --agents daemonset runs no agents of its own; `helm install` of deploy/helm/nearby, with the
// values the docs give a lab user, runs the agent image as real containers with the chart's
// capabilities and mounts, Ready on every node; the seed's Service VIP then answers from the sleep
// container only because those agents rewrote its connect; `helm uninstall` takes them off again.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  hostEnv,
  labPaths,
  labUp,
  readRecord,
  resolveControlPlaneBinaries,
  resolveNodeBinaries,
  resolvePauseImage,
  type LabClient,
  type LabRecord,
} from '../../lab/index.js';
import { waitUntil } from '../../lab/primitives.js';
import { resolveHelm } from '../../lab/helm-binary.js';
import { ifSetUp } from '../fixtures/if-set-up.js';
import { assertLabPrereqs, downExpectingNothingLeft, REAL_NODE_LAB_DOWN_MS, ROOT, sample } from './lab-fixture.js';
import { curlInContainer, podProcessNamed } from './real-node-pods.js';

const NAME = `e2e-ds-${process.pid}`;
const CLUSTER = `kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
name: ${NAME}
nodes:
  - role: control-plane
  - role: worker
`;
const NODES = [`${NAME}-control-plane`, `${NAME}-worker`];
const NAMESPACE = 'nearby-system';
const AGENT_IMAGE = { repository: 'ghcr.io/nearby-lb/nearby-agent', tag: '0.1.0' };

let lab: LabClient;
let record: LabRecord | undefined;
let upMs = 0;

function run(binary: string, args: string[], input?: string): string {
  return execFileSync(binary, args, {
    env: { ...process.env, KUBECONFIG: join(lab.paths.stateDir, 'kubeconfig') },
    encoding: 'utf8',
    ...(input !== undefined ? { input } : {}),
  });
}
const kubectl = (args: string[], input?: string): string => run(resolveControlPlaneBinaries().kubectl, args, input);
const helm = (args: string[]): string => run(resolveHelm(), args);

/** The values docs/real-nodes.md gives: the imported image, the lab's API server, each node's own cgroup subtree. */
function labValues(): string[] {
  const host = hostEnv();
  const server = new URL(kubectl(['config', 'view', '-o', 'jsonpath={.clusters[0].cluster.server}']).trim());
  const cgroupRoot = labPaths(NAME, host.cgroup2, host.bpffs).cgroupRoot;
  return [
    ...['--set', `image.repository=${AGENT_IMAGE.repository}`, '--set', `image.tag=${AGENT_IMAGE.tag}`],
    ...['--set', 'image.pullPolicy=Never'],
    ...['--set', `apiServer.host=${server.hostname}`, '--set-string', `apiServer.port=${server.port}`],
    ...['--set', `hostPaths.bpffs=${host.bpffs}`, '--set', `hostPaths.cgroup=${host.cgroup2}`],
    ...['--set-string', `hostPaths.cgroupSubpath=${relative(host.cgroup2, cgroupRoot)}/$(NODE_NAME)`],
  ];
}

interface PodItem {
  metadata: { name: string; uid: string };
  spec: { nodeName?: string };
  status: { phase?: string; podIP?: string; conditions?: Array<{ type: string; status: string }> };
}

function nodeCgroup(node: string): string {
  return readRecord(lab.paths.record)!.nodes.find((n) => n.name === node)!.cgroup;
}

/** What bpftool lists attached directly on `cgroup` (empty when nothing is). */
function attachedPrograms(cgroup: string): unknown[] {
  const text = execFileSync('bpftool', ['cgroup', 'show', cgroup, '-j'], { encoding: 'utf8' }).trim();
  return text ? (JSON.parse(text) as unknown[]) : [];
}

beforeAll(async () => {
  resolveNodeBinaries();
  resolvePauseImage();
  resolveHelm();
  await assertLabPrereqs();
  const up = await labUp({
    text: CLUSTER,
    name: NAME,
    timeoutMs: 240_000,
    controlPlane: true,
    realNodes: true,
    agents: 'daemonset',
  });
  lab = up.lab;
  upMs = up.elapsedMs;
  record = readRecord(lab.paths.record);
}, 300_000);

afterAll(async () => {
  if (ifSetUp(lab)) await downExpectingNothingLeft(NAME, lab, record);
}, REAL_NODE_LAB_DOWN_MS);

describe('nearby installed by helm on the real-node lab', () => {
  it('starts no lab agents of its own', () => {
    console.log(`lab up with 2 real nodes, no lab agents: ${upMs} ms`);
    expect(readRecord(lab.paths.record)!.nodes.map((n) => [n.name, n.agent ?? null])).toEqual(NODES.map((n) => [n, null]));
    for (const node of NODES) expect(existsSync(join(lab.paths.pinBase, node)), `pins of ${node} before install`).toBe(false);
  });

  it("runs the chart's DaemonSet Ready on every node, each agent attached to its own node's cgroup", () => {
    const started = Date.now();
    helm(['install', 'nearby', join(ROOT, 'deploy/helm/nearby'), '--namespace', NAMESPACE, '--create-namespace', ...labValues()]);
    kubectl(['rollout', 'status', 'daemonset/nearby-agent', '-n', NAMESPACE, '--timeout=180s']);
    console.log(`nearby DaemonSet Ready on ${NODES.length} nodes ${Date.now() - started} ms after helm install`);
    const pods = (
      JSON.parse(
        kubectl(['get', 'pods', '-n', NAMESPACE, '-l', 'app.kubernetes.io/name=nearby,app.kubernetes.io/component=agent', '-o', 'json']),
      ) as { items: PodItem[] }
    ).items;
    expect(pods.map((p) => p.spec.nodeName).sort()).toEqual(NODES);
    for (const pod of pods) {
      expect(pod.status.conditions?.find((c) => c.type === 'Ready')?.status, pod.metadata.name).toBe('True');
      // The agent process runs in a container below the node's own cgroup, and pinned under <bpffs>/nearby/<node>.
      expect(podProcessNamed(nodeCgroup(pod.spec.nodeName!), pod.metadata.uid, 'node'), `agent of ${pod.spec.nodeName}`).toBeDefined();
      expect(readdirSync(join(lab.paths.pinBase, pod.spec.nodeName!)).length, `pins of ${pod.spec.nodeName}`).toBeGreaterThan(0);
      expect(attachedPrograms(nodeCgroup(pod.spec.nodeName!)).length, `programs on ${pod.spec.nodeName}'s cgroup`).toBeGreaterThan(0);
    }
  }, 240_000);

  it('serves the seed helloworld Service VIP to the sleep container through those agents', async () => {
    kubectl(
      ['apply', '-f', '-'],
      [sample('helloworld-service.yaml', NAME), sample('helloworld-region.zone1.subzone1.yaml', NAME), sample('sleep.yaml', NAME)].join(
        '---\n',
      ),
    );
    kubectl(['rollout', 'status', 'deployment/helloworld-region.zone1.subzone1', 'deployment/sleep', '--timeout=120s']);
    const pods = (JSON.parse(kubectl(['get', 'pods', '-l', 'app in (helloworld,sleep)', '-o', 'json'])) as { items: PodItem[] }).items;
    const hello = pods.find((p) => p.metadata.name.startsWith('helloworld-'))!;
    const sleep = pods.find((p) => p.metadata.name.startsWith('sleep-'))!;
    const sleepPid = podProcessNamed(nodeCgroup(sleep.spec.nodeName!), sleep.metadata.uid, 'sleep');
    expect(sleepPid, 'the sleep container process').toBeDefined();
    const vip = kubectl(['get', 'service', 'helloworld', '-o', 'jsonpath={.spec.clusterIP}']).trim();
    const expected = `Hello version: region.zone1.subzone1, instance: ${hello.metadata.name}`;
    let answer = '';
    await waitUntil(
      () => {
        try {
          answer = curlInContainer(sleepPid!, `http://${vip}:5000/hello`);
          return true;
        } catch (error) {
          answer = String(error);
          return false;
        }
      },
      30_000,
      1000,
    );
    expect(answer, `curl ${vip}:5000 from ${sleep.metadata.name}`).toBe(expected);
  }, 180_000);

  it('runs kubectl exec and logs through the kubelets, and a hostNetwork pod sees its node name as hostname', async () => {
    // exec: the API server dials the sleep pod's kubelet at its InternalIP with its kubelet client
    // certificate; the curl inside goes through nearby to the VIP.
    const vip = kubectl(['get', 'service', 'helloworld', '-o', 'jsonpath={.spec.clusterIP}']).trim();
    const hello = kubectl(['get', 'pods', '-l', 'app=helloworld', '-o', 'jsonpath={.items[0].metadata.name}']).trim();
    expect(kubectl(['exec', 'deploy/sleep', '--', 'curl', '-sS', '--max-time', '10', `http://${vip}:5000/hello`]).trim()).toBe(
      `Hello version: region.zone1.subzone1, instance: ${hello}`,
    );
    // logs: what a hostNetwork container printed, its hostname being its node's (the node's own UTS namespace).
    const worker = NODES[1]!;
    kubectl(
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'talker' },
        spec: {
          nodeName: worker,
          hostNetwork: true,
          containers: [
            {
              name: 'talker',
              image: 'curlimages/curl',
              imagePullPolicy: 'IfNotPresent',
              command: ['/bin/sh', '-c', 'echo "talker on $(cat /proc/sys/kernel/hostname)"; exec /bin/sleep infinity'],
            },
          ],
        },
      }),
    );
    kubectl(['wait', '--for=condition=Ready', 'pod/talker', '--timeout=60s']);
    let logs = '';
    await waitUntil(
      () => {
        logs = kubectl(['logs', 'talker']).trim();
        return logs !== '';
      },
      10_000,
      500,
    );
    expect(logs).toBe(`talker on ${worker}`);
    expect(kubectl(['exec', 'talker', '--', 'cat', '/proc/sys/kernel/hostname']).trim()).toBe(worker);
    kubectl(['delete', 'pod', 'talker', '--grace-period=0', '--force']);
  }, 120_000);

  it('leaves no pin and no attached program on any node after helm uninstall', () => {
    const started = Date.now();
    helm(['uninstall', 'nearby', '--namespace', NAMESPACE, '--wait', '--timeout', '180s']);
    console.log(`helm uninstall ${Date.now() - started} ms`);
    for (const node of NODES) {
      const pins = join(lab.paths.pinBase, node);
      expect(existsSync(pins) ? readdirSync(pins) : [], `pins of ${node}`).toEqual([]);
      expect(attachedPrograms(nodeCgroup(node)), `programs on ${node}'s cgroup`).toEqual([]);
    }
  }, 240_000);
});
