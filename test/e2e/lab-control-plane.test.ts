// The lab on a real control plane, beyond the seed's steps: Nodes registered with their labels and
// kept Ready by Lease heartbeats, pods reported with podIP and Ready by the lab's kubelet, each agent
// on its own ServiceAccount identity (never admin), and `lab down` ending the control plane too.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveControlPlaneBinaries, readRecord, type LabClient, type LabRecord } from '../../lab/index.js';
import { isRunning } from '../../lab/primitives.js';
import { downExpectingNothingLeft, seedLab, upLabWithSleep } from './lab-fixture.js';
import { ifSetUp } from '../fixtures/if-set-up.js';

const NAME = `e2e-cp-${process.pid}`;
let lab: LabClient;
let record: LabRecord | undefined;
let kubectl: string;
let kubeconfig: string;

function kube(args: string[], config = kubeconfig): unknown {
  return JSON.parse(
    execFileSync(kubectl, [...args, '-o', 'json'], { env: { ...process.env, KUBECONFIG: config }, encoding: 'utf8' }),
  ) as unknown;
}

/** kubectl's exit and stderr, for requests that must be refused. */
function kubeRefused(args: string[], config: string): string {
  try {
    execFileSync(kubectl, args, { env: { ...process.env, KUBECONFIG: config }, encoding: 'utf8', stdio: 'pipe' });
    return 'allowed';
  } catch (error) {
    return String((error as { stderr?: string }).stderr ?? error);
  }
}

interface Item {
  metadata: { name: string; labels?: Record<string, string> };
  spec: Record<string, unknown>;
  status: Record<string, unknown>;
}

beforeAll(async () => {
  kubectl = resolveControlPlaneBinaries().kubectl;
  ({ lab, record } = await upLabWithSleep({ text: seedLab(NAME), name: NAME, timeoutMs: 60_000, controlPlane: true }));
  kubeconfig = (await lab.status()).kubeconfig ?? '';
}, 90_000);

afterAll(async () => {
  const last = ifSetUp(lab) ? readRecord(lab.paths.record) : record;
  await downExpectingNothingLeft(NAME, lab, record);
  // The control plane was the lab's: none of its processes outlives lab down.
  expect(
    Object.entries(last?.controlPlane ?? {})
      .filter(([, ref]) => ref && isRunning(ref))
      .map(([c]) => c),
  ).toEqual([]);
});

describe('the lab on a real control plane', () => {
  it('prints a kubeconfig that reaches a v1.36 API server', () => {
    expect(kubeconfig).toMatch(new RegExp(`/${NAME}/kubeconfig$`));
    const version = kube(['version']) as { serverVersion: { gitVersion: string } };
    expect(version.serverVersion.gitVersion).toBe(resolveControlPlaneBinaries().version);
  });

  it('registers every node Ready with its labels, and renews its Lease', () => {
    const nodes = (kube(['get', 'nodes']) as { items: Item[] }).items;
    expect(nodes.map((n) => n.metadata.name).sort()).toEqual([
      `${NAME}-control-plane`,
      `${NAME}-worker`,
      `${NAME}-worker2`,
      `${NAME}-worker3`,
    ]);
    for (const node of nodes) {
      const ready = (node.status['conditions'] as Array<{ type: string; status: string }>).find((c) => c.type === 'Ready');
      expect(ready?.status, node.metadata.name).toBe('True');
    }
    const worker2 = nodes.find((n) => n.metadata.name === `${NAME}-worker2`)!;
    expect(worker2.metadata.labels).toMatchObject({ 'topology.kubernetes.io/zone': 'zone1', 'topology.kubernetes.io/subzone': 'subzone2' });
    const leases = (
      kube(['get', 'leases', '-n', 'kube-node-lease']) as {
        items: Array<{ metadata: { name: string }; spec: { holderIdentity: string; renewTime: string } }>;
      }
    ).items;
    for (const node of nodes) {
      const lease = leases.find((l) => l.metadata.name === node.metadata.name);
      expect(lease?.spec.holderIdentity).toBe(node.metadata.name);
      // Renewed every 10 s: never older than the 40 s lease duration.
      expect(Date.now() - Date.parse(lease!.spec.renewTime)).toBeLessThan(40_000);
    }
  });

  it('reports each pod with its podIP and Ready, and the scheduler placed them by nodeSelector', async () => {
    const pods = (kube(['get', 'pods', '-n', 'sample']) as { items: Item[] }).items;
    const placed = Object.fromEntries(
      pods.map((p) => [String(p.metadata.labels?.['version'] ?? p.metadata.labels?.['app']), p.spec['nodeName']] as const),
    );
    expect(placed).toEqual({
      'region.zone1.subzone1': `${NAME}-worker`,
      'region.zone1.subzone2': `${NAME}-worker2`,
      'region.zone2.subzone3': `${NAME}-worker3`,
      sleep: `${NAME}-worker`,
    });
    const labPods = await lab.pods({ namespace: 'sample' });
    for (const pod of pods) {
      const ip = pod.status['podIP'];
      expect(ip).toBe(labPods.find((p) => p.name === pod.metadata.name)?.ip);
      expect((pod.status['conditions'] as Array<{ type: string; status: string }>).find((c) => c.type === 'Ready')?.status).toBe('True');
    }
  });

  it("runs each agent with the nearby-agent ServiceAccount's token, which may read but not write", async () => {
    const status = await lab.status();
    for (const node of status.nodes) {
      const args = readFileSync(`/proc/${node.agent.pid}/cmdline`, 'utf8').split('\0');
      const agentConfig = args[args.indexOf('--kubeconfig') + 1]!;
      expect(agentConfig).not.toBe(kubeconfig);
      const whoami = kube(['auth', 'whoami'], agentConfig) as { status: { userInfo: { username: string } } };
      expect(whoami.status.userInfo.username).toBe('system:serviceaccount:nearby-system:nearby-agent');
      expect(kubeRefused(['get', 'secrets', '-A'], agentConfig)).toMatch(/forbidden/i);
      expect(kubeRefused(['label', 'node', node.name, 'x=y'], agentConfig)).toMatch(/forbidden/i);
    }
  });
  it('shows a kubectl label and a namespace annotation in lab status as the agents read them (issue 18)', async () => {
    const worker3 = `${NAME}-worker3`;
    // Istio's subzone label wins over the seeds' topology.kubernetes.io/subzone, in the planner and so in the status.
    kube(['label', 'node', worker3, 'topology.kubernetes.io/region=region9', 'topology.istio.io/subzone=istio9', '--overwrite']);
    kube(['create', 'service', 'clusterip', 'plain', '-n', 'sample', '--tcp=80:80']);
    kube(['annotate', 'namespace', 'sample', 'networking.istio.io/traffic-distribution=PreferSameZone']);
    const status = await lab.status();
    expect(status.nodes.find((n) => n.name === worker3)?.locality).toBe('region9/zone2/istio9');
    expect(status.services.find((s) => s.name === 'plain')?.policy).toEqual({
      mode: 'FAILOVER',
      from: 'Namespace sample annotation networking.istio.io/traffic-distribution=PreferSameZone',
      ignored: [],
    });
    const text = execFileSync('node', ['dist/cmd/nearbyctl.js', 'lab', 'status', '--name', NAME], { encoding: 'utf8' });
    expect(text).toMatch(new RegExp(`${worker3}\\s+worker\\s+region9/zone2/istio9\\s`));
    expect(text).toMatch(
      /sample\/plain\s+\S+\s+80\/TCP\s+FAILOVER \(Namespace sample annotation networking\.istio\.io\/traffic-distribution=PreferSameZone\)/,
    );
  });
});
