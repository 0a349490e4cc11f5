// The lab with real nodes (issue 17, docs/real-nodes.md): two lab nodes, each a real kubelet with
// its own containerd in its own netns, registered Ready with the lab's API server; a pause pod
// scheduled to each runs in that node's own cgroup2 subtree with an address from that node's pod
// CIDR, and one node's pod reaches the other's across the lab network. Fails, never skips, when
// the node components or the pause image are missing: it names what to build.
import { execFileSync, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  hostEnv,
  labUp,
  PAUSE_IMAGE,
  readRecord,
  resolveControlPlaneBinaries,
  resolveNodeBinaries,
  resolvePauseImage,
  type LabClient,
  type LabRecord,
} from '../../lab/index.js';
import { assertLabPrereqs, downExpectingNothingLeft, REAL_NODE_LAB_DOWN_MS, sample } from './lab-fixture.js';
import { ifSetUp } from '../fixtures/if-set-up.js';
import { isRunning, waitUntil } from '../../lab/primitives.js';
import { labExists } from '../../lab/teardown.js';
import { curlInContainer, podProcesses, podProcessNamed } from './real-node-pods.js';

const NAME = `e2e-rn-${process.pid}`;
const CLUSTER = `kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
name: ${NAME}
nodes:
  - role: control-plane
  - role: worker
`;
const NODES = [`${NAME}-control-plane`, `${NAME}-worker`];

/** One pause pod pinned to `node` by the scheduler (a selector, and the control plane's taint tolerated). */
function pausePod(name: string, node: string): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default' },
    spec: {
      nodeSelector: { 'kubernetes.io/hostname': node },
      tolerations: [{ operator: 'Exists' }],
      containers: [{ name: 'pause', image: PAUSE_IMAGE, imagePullPolicy: 'Never' }],
    },
  });
}

let lab: LabClient;
let record: LabRecord | undefined;
let upMs = 0;

function kubectl(args: string[], input?: string): string {
  const kubeconfig = join(lab.paths.stateDir, 'kubeconfig');
  return execFileSync(resolveControlPlaneBinaries().kubectl, args, {
    env: { ...process.env, KUBECONFIG: kubeconfig },
    encoding: 'utf8',
    ...(input !== undefined ? { input } : {}),
  });
}

interface PodItem {
  metadata: { name: string; uid: string };
  spec: { nodeName?: string };
  status: { phase?: string; podIP?: string };
}

beforeAll(async () => {
  // Missing pieces fail here, by name, before anything is built.
  resolveNodeBinaries();
  resolvePauseImage();
  await assertLabPrereqs();
  const up = await labUp({ text: CLUSTER, name: NAME, timeoutMs: 240_000, controlPlane: true, realNodes: true });
  lab = up.lab;
  upMs = up.elapsedMs;
  record = readRecord(lab.paths.record);
}, 300_000);

afterAll(async () => {
  if (ifSetUp(lab)) await downExpectingNothingLeft(NAME, lab, record);
}, REAL_NODE_LAB_DOWN_MS);

describe('the lab on real nodes', () => {
  it('registers each node Ready through its own kubelet and containerd', () => {
    console.log(`lab up with 2 real nodes: ${upMs} ms`);
    const nodes = JSON.parse(kubectl(['get', 'nodes', '-o', 'json'])) as {
      items: Array<{
        metadata: { name: string };
        spec: { podCIDR?: string };
        status: {
          conditions: Array<{ type: string; status: string }>;
          nodeInfo: { kubeletVersion: string; containerRuntimeVersion: string };
        };
      }>;
    };
    expect(nodes.items.map((n) => n.metadata.name).sort()).toEqual(NODES);
    for (const node of nodes.items) {
      expect(node.status.conditions.find((c) => c.type === 'Ready')?.status, node.metadata.name).toBe('True');
      expect(node.status.nodeInfo.kubeletVersion).toBe(resolveControlPlaneBinaries().version);
      expect(node.status.nodeInfo.containerRuntimeVersion).toMatch(/^containerd:\/\/2\./);
    }
    const daemons = readRecord(lab.paths.record)!.nodes.map((n) => [n.name, Object.keys(n.daemons ?? {}).sort()]);
    expect(daemons).toEqual(NODES.map((n) => [n, ['containerd', 'kubelet']]));
  });

  it('runs a pause pod on each node, in that node cgroup2 subtree, with an address of its pod CIDR, reachable from the other node pod', async () => {
    kubectl(['apply', '-f', '-'], [pausePod('pa', NODES[0]!), pausePod('pb', NODES[1]!)].join('\n'));
    kubectl(['wait', '--for=condition=Ready', 'pod/pa', 'pod/pb', '--timeout=120s']);
    const pods = (JSON.parse(kubectl(['get', 'pods', '-o', 'json'])) as { items: PodItem[] }).items;
    const byName = new Map(pods.map((p) => [p.metadata.name, p]));
    const cidrs = new Map(readRecord(lab.paths.record)!.nodes.map((n) => [n.name, n.podCidr]));
    const pids: number[] = [];
    for (const [name, node] of [
      ['pa', NODES[0]!],
      ['pb', NODES[1]!],
    ] as const) {
      const pod = byName.get(name)!;
      expect(pod.spec.nodeName).toBe(node);
      const prefix = cidrs.get(node)!.replace(/\.0\/24$/, '.');
      expect(pod.status.podIP?.startsWith(prefix), `${name} ${pod.status.podIP} in ${cidrs.get(node)}`).toBe(true);
      // The agent attaches to the node's cgroup2 directory: the pod's processes must be below it.
      const nodeCgroup = readRecord(lab.paths.record)!.nodes.find((n) => n.name === node)!.cgroup;
      const procs = podProcesses(nodeCgroup, pod.metadata.uid);
      expect(procs.length, `processes of ${name} under ${nodeCgroup}`).toBeGreaterThanOrEqual(2);
      pids.push(procs[0]!);
    }
    const answer = await connectBetween(pids[1]!, pids[0]!, byName.get('pb')!.status.podIP!);
    expect(answer).toBe('hello from pb');
  }, 180_000);

  it('gives the pods a way to the API server address, as default/kubernetes publishes it', () => {
    const pod = (JSON.parse(kubectl(['get', 'pod', 'pb', '-o', 'json'])) as PodItem).metadata.uid;
    const nodeCgroup = readRecord(lab.paths.record)!.nodes.find((n) => n.name === NODES[1])!.cgroup;
    const server = new URL(kubectl(['config', 'view', '-o', 'jsonpath={.clusters[0].cluster.server}']).trim());
    expect(tcpConnect(podProcesses(nodeCgroup, pod)[0]!, server.hostname, Number(server.port))).toBe('connected');
  });
});

/** A TCP connect from the netns of process `pid`: "connected", or what failed. */
function tcpConnect(pid: number, host: string, port: number): string {
  const script = `const s = require('net').connect(${port}, ${JSON.stringify(host)}, () => { process.stdout.write('connected'); process.exit(0); }); s.on('error', (e) => { process.stdout.write(e.message); process.exit(0); }); setTimeout(() => { process.stdout.write('timeout'); process.exit(0); }, 10000);`;
  return execFileSync('nsenter', [`--net=/proc/${pid}/ns/net`, process.execPath, '-e', script], { encoding: 'utf8' });
}

/**
 * A listener in the netns of the process `serverPid` (pod pb) and a client in the netns of
 * `clientPid` (pod pa) that connects to pb's address: the answer proves the route across nodes.
 */
async function connectBetween(serverPid: number, clientPid: number, address: string): Promise<string> {
  const server = spawn(
    'nsenter',
    [
      `--net=/proc/${serverPid}/ns/net`,
      process.execPath,
      '-e',
      `require('net').createServer((s) => s.end('hello from pb')).listen(7070, () => console.log('listening'));`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  try {
    await new Promise<void>((resolve, reject) => {
      server.stdout.once('data', () => resolve());
      server.once('exit', (code) => reject(new Error(`listener exited ${code}`)));
    });
    return execFileSync(
      'nsenter',
      [
        `--net=/proc/${clientPid}/ns/net`,
        process.execPath,
        '-e',
        `const s = require('net').connect(7070, ${JSON.stringify(address)}); let d = ''; s.on('data', (b) => d += b); s.on('end', () => { process.stdout.write(d); process.exit(0); }); s.on('error', (e) => { console.error(e.message); process.exit(1); }); setTimeout(() => { console.error('timeout'); process.exit(2); }, 10000);`,
      ],
      { encoding: 'utf8' },
    );
  } finally {
    server.kill();
  }
}

describe('the seed samples on real nodes', () => {
  // helloworld (its image and curl imported at lab up from make images) and sleep, both pinned by
  // the samples to the first worker, run as real containers.
  it('runs helloworld and sleep as real containers; sleep reaches helloworld at its pod IP, and through the Service VIP', async () => {
    for (const line of labLogLines('images imported')) console.log(`lab up: ${line}`);
    const applied = Date.now();
    kubectl(
      ['apply', '-f', '-'],
      [sample('helloworld-service.yaml', NAME), sample('helloworld-region.zone1.subzone1.yaml', NAME), sample('sleep.yaml', NAME)].join(
        '---\n',
      ),
    );
    kubectl(['rollout', 'status', 'deployment/helloworld-region.zone1.subzone1', 'deployment/sleep', '--timeout=120s']);
    console.log(`helloworld and sleep Ready ${Date.now() - applied} ms after kubectl apply`);
    const pods = (JSON.parse(kubectl(['get', 'pods', '-l', 'app in (helloworld,sleep)', '-o', 'json'])) as { items: PodItem[] }).items;
    const hello = pods.find((p) => p.metadata.name.startsWith('helloworld-'))!;
    const sleep = pods.find((p) => p.metadata.name.startsWith('sleep-'))!;
    for (const pod of [hello, sleep]) {
      expect(pod.status.phase, pod.metadata.name).toBe('Running');
      expect(pod.spec.nodeName).toBe(NODES[1]);
    }
    // Not kubectl exec: the API server dials kubelets by node name, which no resolver of the lab knows.
    const nodeCgroup = readRecord(lab.paths.record)!.nodes.find((n) => n.name === NODES[1])!.cgroup;
    const sleepPid = podProcessNamed(nodeCgroup, sleep.metadata.uid, 'sleep');
    expect(sleepPid, 'the sleep container process').toBeDefined();
    const curl = (target: string): string => curlInContainer(sleepPid!, `http://${target}:5000/hello`);
    // The sample sets SERVICE_VERSION to its locality, which the app answers with instead of v1.
    const expected = `Hello version: region.zone1.subzone1, instance: ${hello.metadata.name}`;
    // The sample has no readiness probe: Ready means started, and the server listens a moment later.
    // So each target is asked until it answers (bounded), and what it last said is what is checked.
    const answerOf = async (target: string): Promise<string> => {
      let answer = '';
      await waitUntil(
        () => {
          try {
            answer = curl(target);
            return true;
          } catch (error) {
            answer = String(error);
            return false;
          }
        },
        30_000,
        1000,
      );
      return answer;
    };
    expect(await answerOf(hello.status.podIP!), `curl ${hello.status.podIP}:5000 from ${sleep.metadata.name}`).toBe(expected);
    // The VIP is only answered if the node agent (attached to the node cgroup, above kubepods) rewrote the connect.
    const vip = kubectl(['get', 'service', 'helloworld', '-o', 'jsonpath={.spec.clusterIP}']).trim();
    expect(await answerOf(vip), `curl ${vip}:5000 from ${sleep.metadata.name}`).toBe(expected);
  }, 240_000);
});

/** Lines of the lab's logs that contain `text` (the supervisor's own, among others). */
function labLogLines(text: string): string[] {
  const dir = lab.paths.logDir;
  return readdirSync(dir)
    .filter((f) => f.endsWith('.log'))
    .flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n'))
    .filter((l) => l.includes(text));
}

describe('a real-node lab whose supervisor crashed', () => {
  it('keeps its daemons recorded, so the next lab up or lab down finds and removes them', async () => {
    const last = readRecord(lab.paths.record)!;
    const daemons = last.nodes.flatMap((n) => Object.values(n.daemons ?? {}).flatMap((ref) => (ref ? [ref] : [])));
    expect(daemons.length).toBe(4);
    process.kill(last.supervisor!.pid, 'SIGKILL');
    await waitUntil(() => !isRunning(last.supervisor!), 5000);
    // containerd and the kubelets outlive their parent: only lab.json can name them now.
    expect(daemons.filter((ref) => isRunning(ref)).length).toBe(4);
    expect(await labExists(hostEnv(), NAME)).toBe(true);
    // afterAll's lab down must leave nothing: processes, mounts, cgroup v1 and v2 trees, netns.
  });
});
