// A rolling update of nearby's DaemonSet under load (issue 17, docs/real-nodes.md step 5): on the
// real-node lab with --agents daemonset, `helm upgrade` to a new image tag (the built agent image
// tagged again in each node's containerd) while the seed's sleep container connects to the
// helloworld Service VIP in a loop. No kube-proxy runs: every one of those connects is rewritten by
// nearby's program, which must keep serving from its pins while a node's agent is replaced (the
// agent leaves them in place on SIGTERM; only the uninstall hook takes them away). 0 failures, and
// every agent pod runs the new tag, Ready.
import { execFileSync, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
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
import { nodeDirs } from '../../lab/real-node/index.js';
import { resolveHelm } from '../../lab/helm-binary.js';
import { ifSetUp } from '../fixtures/if-set-up.js';
import { newTopLevelCgroups, topLevelCgroups } from './cgroup-roots.js';
import { assertLabPrereqs, downExpectingNothingLeft, REAL_NODE_LAB_DOWN_MS, ROOT, sample } from './lab-fixture.js';
import { curlInContainer, podProcessNamed } from './real-node-pods.js';
import { waitUntil } from '../../lab/primitives.js';

const NAME = `e2e-roll-${process.pid}`;
// A pod range of its own, not kind's default: the test's nodes and pods share no address with
// another lab left running on the same machine on the default range.
const CLUSTER = `kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
name: ${NAME}
networking:
  podSubnet: 10.247.0.0/16
nodes:
  - role: control-plane
  - role: worker
`;
const NODES = [`${NAME}-control-plane`, `${NAME}-worker`];
const NAMESPACE = 'nearby-system';
const REPOSITORY = 'ghcr.io/nearby-lb/nearby-agent';
const OLD_TAG = '0.1.0';
const NEW_TAG = '0.1.0-rollout';
const AGENT_SELECTOR = 'app.kubernetes.io/name=nearby,app.kubernetes.io/component=agent';
const HELM_UNINSTALL_MS = 180_000;
/** The loop's own bound, should the test never tell it to stop. */
const LOOP_LIMIT_S = 400;

let lab: LabClient;
let record: LabRecord | undefined;
let cgroupsBefore: string[] = [];

function run(binary: string, args: string[], input?: string): string {
  return execFileSync(binary, args, {
    env: { ...process.env, KUBECONFIG: join(lab.paths.stateDir, 'kubeconfig') },
    encoding: 'utf8',
    ...(input !== undefined ? { input } : {}),
  });
}
const kubectl = (args: string[], input?: string): string => run(resolveControlPlaneBinaries().kubectl, args, input);
const helm = (args: string[]): string => run(resolveHelm(), args);

/** The values docs/real-nodes.md step 5 gives a lab user, with the image tag to run. */
function labValues(tag: string): string[] {
  const host = hostEnv();
  const server = new URL(kubectl(['config', 'view', '-o', 'jsonpath={.clusters[0].cluster.server}']).trim());
  const cgroupRoot = labPaths(NAME, host.cgroup2, host.bpffs).cgroupRoot;
  return [
    ...['--set', `image.repository=${REPOSITORY}`, '--set-string', `image.tag=${tag}`, '--set', 'image.pullPolicy=Never'],
    ...['--set', `apiServer.host=${server.hostname}`, '--set-string', `apiServer.port=${server.port}`],
    ...['--set', `hostPaths.bpffs=${host.bpffs}`, '--set', `hostPaths.cgroup=${host.cgroup2}`],
    ...['--set-string', `hostPaths.cgroupSubpath=${relative(host.cgroup2, cgroupRoot)}/$(NODE_NAME)`],
  ];
}

interface PodItem {
  metadata: { name: string; uid: string };
  spec: { nodeName?: string; containers: Array<{ image: string }> };
  status: { conditions?: Array<{ type: string; status: string }>; containerStatuses?: Array<{ image: string; ready: boolean }> };
}

const agentPods = (): PodItem[] =>
  (JSON.parse(kubectl(['get', 'pods', '-n', NAMESPACE, '-l', AGENT_SELECTOR, '-o', 'json'])) as { items: PodItem[] }).items;

function nodeCgroup(node: string): string {
  return readRecord(lab.paths.record)!.nodes.find((n) => n.name === node)!.cgroup;
}

/**
 * The connect loop, run in the sleep container (its mount and network namespaces and its cgroup2
 * directory, where the node's agent rewrites the connect): one line per attempt, `ok` or
 * `fail <curl exit> <seconds since start>`, until /tmp/stop-connect-loop appears in the container.
 */
function startConnectLoop(pid: number, url: string): { done: Promise<string[]>; stop: () => void } {
  const own = execFileSync('sh', ['-c', `grep '^0::' /proc/${pid}/cgroup | cut -c4-`], { encoding: 'utf8' }).trim();
  const procs = join(hostEnv().cgroup2, own, 'cgroup.procs');
  const loop = [
    `start=$(date +%s); end=$((start + ${LOOP_LIMIT_S}))`,
    'while [ ! -e /tmp/stop-connect-loop ] && [ "$(date +%s)" -lt "$end" ]; do',
    `  if curl -sS -o /dev/null --max-time 2 ${url} 2>/dev/null; then echo ok; else echo "fail $? $(( $(date +%s) - start ))"; fi`,
    '  sleep 0.1',
    'done',
  ].join('\n');
  const child = spawn('sh', ['-c', 'echo $$ > "$1" && exec nsenter -t "$2" -m -n -- sh -c "$3"', 'sh', procs, String(pid), loop], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const done = new Promise<string[]>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', () => resolve(out.split('\n').filter(Boolean)));
  });
  return { done, stop: () => writeFileSync(`/proc/${pid}/root/tmp/stop-connect-loop`, '') };
}

beforeAll(async () => {
  resolveNodeBinaries();
  resolvePauseImage();
  resolveHelm();
  await assertLabPrereqs();
  cgroupsBefore = topLevelCgroups();
  const up = await labUp({ text: CLUSTER, name: NAME, timeoutMs: 300_000, controlPlane: true, realNodes: true, agents: 'daemonset' });
  lab = up.lab;
  record = readRecord(lab.paths.record);
}, 360_000);

afterAll(async () => {
  if (!ifSetUp(lab)) return;
  // The uninstall hook, not lab down, is what takes nearby off the nodes.
  helm(['uninstall', 'nearby', '--namespace', NAMESPACE, '--wait', '--timeout', `${HELM_UNINSTALL_MS / 1000}s`]);
  await downExpectingNothingLeft(NAME, lab, record);
  expect(newTopLevelCgroups(cgroupsBefore), 'cgroups the lab made outside nearby-lab/<lab>').toEqual([]);
}, HELM_UNINSTALL_MS + REAL_NODE_LAB_DOWN_MS);

describe("a rolling update of nearby's DaemonSet on the real-node lab", () => {
  it('keeps every connect to a Service VIP working while each node agent is replaced by the new tag', async () => {
    // The same image under a second tag in every node's containerd: a new tag for the DaemonSet, nothing pulled.
    const { ctr } = resolveNodeBinaries();
    for (const node of NODES) {
      const socket = nodeDirs(lab.paths.stateDir, lab.paths.logDir, NAME, node).containerdSocket;
      execFileSync(ctr, [
        '--address',
        socket,
        '-n',
        'k8s.io',
        'images',
        'tag',
        '--force',
        `${REPOSITORY}:${OLD_TAG}`,
        `${REPOSITORY}:${NEW_TAG}`,
      ]);
    }
    helm(['install', 'nearby', join(ROOT, 'deploy/helm/nearby'), '--namespace', NAMESPACE, '--create-namespace', ...labValues(OLD_TAG)]);
    kubectl(['rollout', 'status', 'daemonset/nearby-agent', '-n', NAMESPACE, '--timeout=180s']);
    const before = agentPods();
    expect(before.map((p) => p.spec.containers[0]?.image)).toEqual(NODES.map(() => `${REPOSITORY}:${OLD_TAG}`));

    kubectl(
      ['apply', '-f', '-'],
      [sample('helloworld-service.yaml', NAME), sample('helloworld-region.zone1.subzone1.yaml', NAME), sample('sleep.yaml', NAME)].join(
        '---\n',
      ),
    );
    kubectl(['rollout', 'status', 'deployment/helloworld-region.zone1.subzone1', 'deployment/sleep', '--timeout=120s']);
    const sleep = (JSON.parse(kubectl(['get', 'pods', '-l', 'app=sleep', '-o', 'json'])) as { items: PodItem[] }).items[0]!;
    const sleepPid = podProcessNamed(nodeCgroup(sleep.spec.nodeName!), sleep.metadata.uid, 'sleep');
    expect(sleepPid, 'the sleep container process').toBeDefined();
    const vip = kubectl(['get', 'service', 'helloworld', '-o', 'jsonpath={.spec.clusterIP}']).trim();
    // The sample has no readiness probe: the loop starts once the server answers through the VIP.
    await waitUntil(
      () => {
        try {
          return curlInContainer(sleepPid!, `http://${vip}:5000/hello`).startsWith('Hello version');
        } catch {
          return false;
        }
      },
      30_000,
      1000,
    );

    const loop = startConnectLoop(sleepPid!, `http://${vip}:5000/hello`);
    await new Promise((r) => setTimeout(r, 5000));
    const started = Date.now();
    helm(['upgrade', 'nearby', join(ROOT, 'deploy/helm/nearby'), '--namespace', NAMESPACE, ...labValues(NEW_TAG)]);
    kubectl(['rollout', 'status', 'daemonset/nearby-agent', '-n', NAMESPACE, '--timeout=300s']);
    const rolloutMs = Date.now() - started;
    // Connects keep going a little after the last new agent is Ready, then the loop ends.
    await new Promise((r) => setTimeout(r, 5000));
    loop.stop();
    const lines = await loop.done;

    const failed = lines.filter((l) => l !== 'ok');
    console.log(
      `DaemonSet rollout ${OLD_TAG} -> ${NEW_TAG} on ${NODES.length} nodes: ${rolloutMs} ms; ${lines.length} connects, ${failed.length} failed`,
    );
    const after = agentPods();
    expect(after.map((p) => p.spec.nodeName).sort()).toEqual(NODES);
    for (const pod of after) {
      expect(
        before.map((p) => p.metadata.uid),
        `${pod.metadata.name} replaced`,
      ).not.toContain(pod.metadata.uid);
      expect(pod.spec.containers[0]?.image, pod.metadata.name).toBe(`${REPOSITORY}:${NEW_TAG}`);
      // Not containerStatuses[].image: both tags name one image ID, and the CRI reports it by its first name (0.1.0).
      expect(pod.status.conditions?.find((c) => c.type === 'Ready')?.status, pod.metadata.name).toBe('True');
    }
    // The loop ran across the whole rollout (at least one connect per second of it) and none failed.
    expect(lines.length).toBeGreaterThanOrEqual(Math.floor(rolloutMs / 1000));
    expect(failed).toEqual([]);
  }, 600_000);
});
