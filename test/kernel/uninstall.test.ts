// Uninstall leaves the node as it was: after `nearby-agent --cleanup` (run while the agent still
// holds its links open, as the chart's pre-delete hook does) or `nearbyctl uninstall` (after the
// agent is gone, as deploy/uninstall/ documents), a connect to the VIP is no longer rewritten, no
// program stays attached to the node's cgroup, and no pin of nearby's stays on bpffs. Pins nearby
// does not own, in the same directories, are still there afterwards; a second run changes nothing.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { runNearbyctl } from '../../cmd/ctl/run.js';
import { unpinDatapath } from '../../pkg/datapath/index.js';
import { assertKernelPrereqs, type Client, KernelLab, type SimNode } from '../../lab/kernel-lab/index.js';
import { endpointSliceYaml, nodeYaml } from '../fixtures/manifests.js';
import { ifSetUp } from '../fixtures/if-set-up.js';
import { type AgentRun, attachedPrograms, freePort, requireTool, ROOT, runAgentToExit, startAgent, until } from './agent-process.js';

const VIP = '10.96.0.30';
const POD = '10.244.1.30';

let lab: KernelLab;
let node: SimNode;
let client: Client;
let agent: AgentRun | undefined;
let stateDir: string;
const foreignPins: string[] = [];

const SERVICE = `apiVersion: v1
kind: Service
metadata: {name: helloworld, namespace: sample}
spec:
  clusterIP: ${VIP}
  clusterIPs: ["${VIP}"]
  ports: [{name: http, port: 5000, targetPort: 5000, protocol: TCP}]
`;

async function startNodeAgent(): Promise<AgentRun> {
  const port = await freePort();
  const run = startAgent({
    args: [
      ...['--node-name', node.nodeName, '--state-dir', stateDir, '--cgroup-path', node.cgroupPath, '--listen', `127.0.0.1:${port}`],
      ...['--max-services', '64', '--max-backends', '64', '--max-slots', '256', '--max-rev-nat', '256', '--max-counters', '512'],
    ],
  });
  await until(
    'the agent to be ready',
    async () => ((await fetch(`http://127.0.0.1:${port}/readyz`)).ok ? true : undefined),
    run.log,
    90_000,
  );
  await until(
    'a connect to the VIP to reach the pod',
    async () => ((await connectOnce()).answer === 'hello-w1' ? true : undefined),
    run.log,
  );
  return run;
}

/**
 * The capabilities deploy/uninstall/ gives the cleanup container, as a setpriv prefix: uid 0 with
 * only those (not CAP_SYS_ADMIN, so a program's name cannot be read by id) and no_new_privs.
 */
function asCleanupContainer(): string[] {
  const ds = parse(readFileSync(join(ROOT, 'deploy/uninstall/cleanup-daemonset.yaml'), 'utf8')) as {
    spec: { template: { spec: { initContainers: Array<{ name: string; securityContext: { capabilities: { add: string[] } } }> } } };
  };
  const caps = ds.spec.template.spec.initContainers.find((c) => c.name === 'cleanup')!.securityContext.capabilities.add;
  expect(caps).not.toContain('SYS_ADMIN');
  const bounding = ['-all', ...caps.map((c) => `+${c.toLowerCase()}`)].join(',');
  return [
    requireTool('setpriv', 'util-linux'),
    `--bounding-set=${bounding}`,
    '--inh-caps=-all',
    '--ambient-caps=-all',
    '--no-new-privs',
    '--',
  ];
}

const connectOnce = async () => (await client.connect({ address: VIP, port: 5000, proto: 'tcp', count: 1, timeoutMs: 1000 }))[0]!;

/** Every file under dir (pins; bpffs holds no other files), relative to it, sorted. */
function pinsUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((p) => !statSync(join(dir, p)).isDirectory())
    .sort();
}

/** A map pinned by someone else (bpftool), named `name` in the kernel. */
function pinForeignMap(path: string, name: string): void {
  execFileSync(requireTool('bpftool', 'bpftool'), [
    'map',
    'create',
    path,
    'type',
    'array',
    'key',
    '4',
    'value',
    '4',
    'entries',
    '1',
    'name',
    name,
  ]);
  foreignPins.push(path);
}

function expectNothingOfNearby(log: string): void {
  expect(attachedPrograms(node.cgroupPath), log).toEqual([]);
  expect(pinsUnder(node.pinRoot), log).toEqual(foreignPins.map((p) => relative(node.pinRoot, p)).sort());
}

async function expectNotRewritten(): Promise<void> {
  // Nothing in the lab's netns has the VIP: unrewritten, the connect has nowhere to go.
  const result = await connectOnce();
  expect(result.ok).toBe(false);
  expect(result.errno).toBe('ENETUNREACH');
}

beforeAll(async () => {
  assertKernelPrereqs();
  lab = await KernelLab.create('uninstall');
  node = await lab.addNode('w1');
  await lab.addPod('hello-w1', [POD], [{ port: 5000, proto: 'tcp' }]);
  client = await node.client();
  stateDir = mkdtempSync(join(tmpdir(), 'nearby-uninstall-'));
  writeFileSync(join(stateDir, 'nodes.yaml'), nodeYaml(node.nodeName, 'region', 'zone1', 'subzone1'));
  writeFileSync(join(stateDir, 'service.yaml'), SERVICE);
  writeFileSync(
    join(stateDir, 'endpoints.yaml'),
    endpointSliceYaml('helloworld', 5000, [{ address: POD, node: node.nodeName, pod: 'hello-w1' }]),
  );
  agent = await startNodeAgent();
}, 180_000);

afterAll(async () => {
  await agent?.kill();
  for (const pin of foreignPins) rmSync(pin, { force: true });
  await ifSetUp(client)?.close();
  if (ifSetUp(node)) unpinDatapath(node.pinRoot);
  await ifSetUp(lab)?.destroy();
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
});

describe('uninstall on a real node', () => {
  it('nearby-agent --cleanup, with the capabilities of the cleanup container and the agent still running, stops every rewrite and leaves only the foreign pins', async () => {
    expect(attachedPrograms(node.cgroupPath).length).toBeGreaterThan(0);
    pinForeignMap(join(node.pinRoot, 'maps', 'not_nearby'), 'not_nearby');
    pinForeignMap(join(node.pinRoot, 'other_tool'), 'other_tool');

    const { code, log } = await runAgentToExit({ args: ['--cleanup', '--node-name', node.nodeName], wrapper: asCleanupContainer() });
    expect(code, log).toBe(0);
    const lines = log
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { msg: string; path?: string; reason?: string });
    expect(lines.filter((l) => l.msg === 'pin left alone: not nearby').map((l) => l.path)).toEqual([
      join(node.pinRoot, 'maps', 'not_nearby'),
      join(node.pinRoot, 'other_tool'),
    ]);
    expect(lines.filter((l) => l.msg === 'link detached and unpinned')).toHaveLength(9);

    await expectNotRewritten();
    expectNothingOfNearby(agent!.log());
    await agent!.kill();
    agent = undefined;
    await expectNotRewritten();
  });

  // Loading the object (the verifier) takes tens of seconds on a busy machine.
  it('nearbyctl uninstall after the agent is gone does the same', { timeout: 180_000 }, async () => {
    agent = await startNodeAgent();
    await agent.kill();
    agent = undefined;
    // Pinned links outlive their agent: the VIP is still rewritten until uninstall.
    expect((await connectOnce()).answer).toBe('hello-w1');

    const out: string[] = [];
    const code = await runNearbyctl(['uninstall', '--node', node.nodeName], { out: (t) => out.push(t), err: (t) => out.push(t) });
    expect(code, out.join('\n')).toBe(0);
    await expectNotRewritten();
    expectNothingOfNearby(out.join('\n'));
  });

  it('a second run is a no-op, and a pin under a name of nearby that the kernel names otherwise is left alone', async () => {
    pinForeignMap(join(node.pinRoot, 'maps', 'services'), 'not_services');
    const out: string[] = [];
    const io = { out: (t: string) => out.push(t), err: (t: string) => out.push(t) };
    expect(await runNearbyctl(['uninstall', '--node', node.nodeName], io)).toBe(0);
    expect((await runAgentToExit({ args: ['--cleanup', '--node-name', node.nodeName] })).code).toBe(0);
    const left = out
      .map((l) => JSON.parse(l) as { msg: string; path?: string; reason?: string })
      .filter((l) => l.path?.endsWith('/services'));
    expect(left).toEqual([
      expect.objectContaining({ msg: 'pin left alone: not nearby', reason: 'a map named "not_services", not services' }),
    ]);
    expectNothingOfNearby(out.join('\n'));
    for (const pin of foreignPins.splice(0)) rmSync(pin);
    // Once the foreign pins are gone, the run removes the directories nearby made, and nothing else.
    expect(await runNearbyctl(['uninstall', '--node', node.nodeName], io)).toBe(0);
    expect(existsSync(node.pinRoot)).toBe(false);
  });
});
