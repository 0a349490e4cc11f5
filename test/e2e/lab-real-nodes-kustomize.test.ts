// nearby installed as a kustomize user installs it, on the real-node lab (issue 17,
// docs/real-nodes.md "kubectl apply -k"): `kubectl apply -k` of the kustomization lab up writes
// (lab/daemonset-overlay over deploy/) runs deploy/'s DaemonSet as real containers, each agent
// Ready with exactly the manifest's capabilities and probes and its own node's cgroup2 subtree
// mounted where the base mounts the cgroup root; then the uninstall deploy/uninstall/README.md
// gives a kustomize user, run command by command from that file, leaves no pin, no attached
// program and no object of nearby's.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  hostEnv,
  labUp,
  readRecord,
  resolveControlPlaneBinaries,
  resolveNodeBinaries,
  resolvePauseImage,
  type LabClient,
  type LabRecord,
} from '../../lab/index.js';
import { kustomizeYaml, only, parseObjects, type KubeObject } from '../fixtures/deploy-render.js';
import { ifSetUp } from '../fixtures/if-set-up.js';
import { assertLabPrereqs, downExpectingNothingLeft, REAL_NODE_LAB_DOWN_MS, ROOT } from './lab-fixture.js';
import { podProcessNamed } from './real-node-pods.js';

const NAME = `e2e-kz-${process.pid}`;
const CLUSTER = `kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
name: ${NAME}
nodes:
  - role: control-plane
  - role: worker
`;
const NODES = [`${NAME}-control-plane`, `${NAME}-worker`];
const NAMESPACE = 'nearby-system';
/** CAP_NET_ADMIN (12) and CAP_BPF (39): what deploy/daemonset.yaml adds, nothing else. */
const AGENT_CAPABILITIES = (1n << 12n) | (1n << 39n);

let lab: LabClient;
let record: LabRecord | undefined;
let kustomization: string;

const kubectl = (args: string[]): string =>
  execFileSync(resolveControlPlaneBinaries().kubectl, args, {
    cwd: ROOT,
    env: { ...process.env, KUBECONFIG: join(lab.paths.stateDir, 'kubeconfig') },
    encoding: 'utf8',
  });

interface Container {
  name: string;
  securityContext?: unknown;
  readinessProbe?: unknown;
  livenessProbe?: unknown;
  startupProbe?: unknown;
  resources?: unknown;
  ports?: unknown;
}
interface PodItem {
  metadata: { name: string; uid: string };
  spec: { nodeName?: string; containers: Container[] };
  status: { conditions?: Array<{ type: string; status: string }> };
}

const nodeCgroup = (node: string): string => readRecord(lab.paths.record)!.nodes.find((n) => n.name === node)!.cgroup;

function attachedPrograms(cgroup: string): unknown[] {
  const text = execFileSync('bpftool', ['cgroup', 'show', cgroup, '-j'], { encoding: 'utf8' }).trim();
  return text ? (JSON.parse(text) as unknown[]) : [];
}

/** /proc/<pid>/mountinfo's line for a mount point: [root within its filesystem, mount options, fs type]. */
function mountOf(pid: number, mountPoint: string): { root: string; options: string[]; fsType: string } | undefined {
  for (const line of readFileSync(`/proc/${pid}/mountinfo`, 'utf8').split('\n')) {
    const [before, after] = line.split(' - ');
    const fields = before?.split(' ') ?? [];
    if (fields[4] !== mountPoint || !after) continue;
    return { root: fields[3]!, options: fields[5]!.split(','), fsType: after.split(' ')[0]! };
  }
  return undefined;
}

/** The kustomize user's uninstall: the `kubectl` lines of deploy/uninstall/README.md, `deploy/` being this lab's kustomization. */
function uninstallCommands(): string[][] {
  const text = readFileSync(join(ROOT, 'deploy/uninstall/README.md'), 'utf8');
  const block = /```sh\n([\s\S]*?)```/.exec(text)?.[1] ?? '';
  return block
    .split('\n')
    .map((line) => line.replace(/#.*$/, '').trim())
    .filter((line) => line.startsWith('kubectl '))
    .map((line) =>
      line
        .split(/\s+/)
        .slice(1)
        .map((arg) => (arg === 'deploy/' ? kustomization : arg)),
    );
}

beforeAll(async () => {
  resolveNodeBinaries();
  resolvePauseImage();
  await assertLabPrereqs();
  const up = await labUp({ text: CLUSTER, name: NAME, timeoutMs: 300_000, controlPlane: true, realNodes: true, agents: 'daemonset' });
  lab = up.lab;
  record = readRecord(lab.paths.record);
  kustomization = up.kustomization!;
}, 360_000);

afterAll(async () => {
  if (ifSetUp(lab)) await downExpectingNothingLeft(NAME, lab, record);
}, REAL_NODE_LAB_DOWN_MS);

describe('nearby installed with kubectl apply -k on the real-node lab', () => {
  it("writes the lab's kustomization into its state dir", () => {
    expect(kustomization).toBe(join(lab.paths.stateDir, 'nearby-kustomize'));
    expect(existsSync(join(kustomization, 'kustomization.yaml'))).toBe(true);
  });

  it("runs deploy/'s DaemonSet Ready on every node, each agent with the manifest's capabilities and probes on its own node's cgroup", async () => {
    const started = Date.now();
    kubectl(['apply', '-k', kustomization]);
    kubectl(['rollout', 'status', 'daemonset/nearby-agent', '-n', NAMESPACE, '--timeout=300s']);
    console.log(`nearby DaemonSet (kubectl apply -k) Ready on ${NODES.length} nodes ${Date.now() - started} ms after apply`);
    const base = only(parseObjects(await kustomizeYaml()), 'DaemonSet', 'nearby-agent') as KubeObject & {
      spec: { template: { spec: { containers: Container[] } } };
    };
    const manifest = base.spec.template.spec.containers[0]!;
    const pods = (
      JSON.parse(kubectl(['get', 'pods', '-n', NAMESPACE, '-l', 'app.kubernetes.io/component=agent', '-o', 'json'])) as {
        items: PodItem[];
      }
    ).items;
    expect(pods.map((p) => p.spec.nodeName).sort()).toEqual(NODES);
    for (const pod of pods) {
      const node = pod.spec.nodeName!;
      expect(pod.status.conditions?.find((c) => c.type === 'Ready')?.status, pod.metadata.name).toBe('True');
      const container = pod.spec.containers[0]!;
      for (const field of ['securityContext', 'readinessProbe', 'livenessProbe', 'startupProbe', 'resources', 'ports'] as const)
        expect(container[field], `${field} of ${pod.metadata.name}`).toMatchObject(manifest[field]!);
      const pid = podProcessNamed(nodeCgroup(node), pod.metadata.uid, 'node');
      expect(pid, `agent of ${node}`).toBeDefined();
      const effective = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
      expect(BigInt(`0x${effective}`), `capabilities of the agent on ${node}`).toBe(AGENT_CAPABILITIES);
      // The base's cgroup mount point holds this node's subtree only, read-only, as a kind node's cgroup namespace would.
      const cgroup = mountOf(pid!, '/run/nearby/cgroup');
      expect(cgroup, `the agent's cgroup mount on ${node}`).toEqual({
        root: `/${nodeCgroup(node).slice(hostEnv().cgroup2.length + 1)}`,
        options: expect.arrayContaining(['ro']) as unknown,
        fsType: 'cgroup2',
      });
      expect(readdirSync(join(lab.paths.pinBase, node)).length, `pins of ${node}`).toBeGreaterThan(0);
      expect(attachedPrograms(nodeCgroup(node)).length, `programs on ${node}'s cgroup`).toBeGreaterThan(0);
    }
  }, 420_000);

  it('leaves no pin, no attached program and no nearby object after the uninstall deploy/uninstall/README.md gives', () => {
    const commands = uninstallCommands();
    expect(commands.length, 'kubectl steps in deploy/uninstall/README.md').toBe(5);
    const started = Date.now();
    for (const args of commands) kubectl(args);
    console.log(`kustomize uninstall (${commands.length} kubectl steps) ${Date.now() - started} ms`);
    for (const node of NODES) {
      const pins = join(lab.paths.pinBase, node);
      expect(existsSync(pins) ? readdirSync(pins) : [], `pins of ${node}`).toEqual([]);
      expect(attachedPrograms(nodeCgroup(node)), `programs on ${node}'s cgroup`).toEqual([]);
    }
    expect(kubectl(['get', 'namespaces', '-o', 'name']).split('\n')).not.toContain(`namespace/${NAMESPACE}`);
    expect(kubectl(['get', 'clusterroles,clusterrolebindings', '-l', 'app.kubernetes.io/name=nearby', '-o', 'name']).trim()).toBe('');
  }, 420_000);
});
