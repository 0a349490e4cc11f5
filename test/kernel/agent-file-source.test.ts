// The whole agent as a process: a FileSource over a manifest directory, the reconciler, and the
// real datapath on a lab node's cgroup. Editing the YAML must move real connects: failover when
// the near endpoint goes, a live node relabel, and a bad object that harms nothing else.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unpinDatapath } from '../../pkg/datapath/index.js';
import { assertKernelPrereqs, type Client, Lab, type SimNode } from './harness/index.js';
import { endpointSliceYaml, nodeYaml } from '../fixtures/manifests.js';
import { tally } from './datapath-fixture.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const VIP = '10.96.0.20';
const PODS = { me: '10.244.1.20', w2: '10.244.2.20', w3: '10.244.3.20' };

let lab: Lab;
let node: SimNode;
let client: Client;
let agent: ChildProcess | undefined;
let stateDir: string;
let port: number;
let agentLog = '';

const nodes = (w3Zone: string, w3Subzone: string): string =>
  [nodeYaml(node.nodeName, 'region', 'zone1', 'subzone1'), nodeYaml('w2', 'region', 'zone1', 'subzone2'), nodeYaml('w3', 'region', w3Zone, w3Subzone)].join('---\n');
const endpoints = (pods: Array<[string, string, string]>): string =>
  endpointSliceYaml('helloworld', 5000, pods.map(([address, nodeName, pod]) => ({ address, node: nodeName, pod })));

const SERVICE = `apiVersion: v1
kind: Service
metadata: {name: helloworld, namespace: sample}
spec:
  clusterIP: ${VIP}
  clusterIPs: ["${VIP}"]
  trafficDistribution: PreferClose
  ports: [{name: http, port: 5000, targetPort: 5000, protocol: TCP}]
`;

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => res(p));
    });
    s.on('error', rej);
  });
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 5000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; agent log:\n${agentLog.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const answers = async (count = 30) => tally(await client.connect({ address: VIP, port: 5000, proto: 'tcp', count }));
const same = (a: Record<string, number>, b: Record<string, number>) => JSON.stringify(a) === JSON.stringify(b);

beforeAll(async () => {
  assertKernelPrereqs();
  lab = await Lab.create('agent');
  node = await lab.addNode('w1');
  for (const [pod, address] of [['hello-w1', PODS.me], ['hello-w2', PODS.w2], ['hello-w3', PODS.w3]] as const) {
    await lab.addPod(pod, [address], [{ port: 5000, proto: 'tcp' }]);
  }
  client = await node.client();
  stateDir = mkdtempSync(join(tmpdir(), 'nearby-agent-'));
  writeFileSync(join(stateDir, 'nodes.yaml'), nodes('zone2', 'subzone3'));
  writeFileSync(join(stateDir, 'service.yaml'), SERVICE);
  writeFileSync(join(stateDir, 'endpoints.yaml'), endpoints([[PODS.me, node.nodeName, 'hello-w1'], [PODS.w2, 'w2', 'hello-w2'], [PODS.w3, 'w3', 'hello-w3']]));
  port = await freePort();
  agent = spawn(
    process.execPath,
    ['--import', 'tsx', join(ROOT, 'cmd/agent.ts'), '--node-name', node.nodeName, '--state-dir', stateDir,
      '--cgroup-path', node.cgroupPath, '--listen', `127.0.0.1:${port}`, '--max-services', '64', '--max-backends', '64',
      '--max-slots', '256', '--max-rev-nat', '256', '--max-counters', '512'],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  agent.stdout!.on('data', (d: Buffer) => (agentLog += d.toString()));
  agent.stderr!.on('data', (d: Buffer) => (agentLog += d.toString()));
  await until('the agent to be ready', async () => ((await fetch(`http://127.0.0.1:${port}/readyz`)).ok ? true : undefined), 20000);
});

afterAll(async () => {
  if (agent && agent.exitCode === null) {
    agent.kill('SIGKILL');
    await new Promise((r) => agent!.once('exit', r));
  }
  await client?.close();
  if (node) unpinDatapath(node.pinRoot);
  await lab?.destroy();
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
});

describe('nearby-agent with a file source on a real datapath', () => {
  it('programs PreferClose: every connect goes to the same-subzone pod', async () => {
    expect(await answers()).toEqual({ 'hello-w1': 30 });
  });

  it('fails over to the same-zone pod when the local endpoint leaves the EndpointSlice', async () => {
    writeFileSync(join(stateDir, 'endpoints.yaml'), endpoints([[PODS.w2, 'w2', 'hello-w2'], [PODS.w3, 'w3', 'hello-w3']]));
    await until('failover to w2', async () => (same(await answers(10), { 'hello-w2': 10 }) ? true : undefined));
    expect(await answers()).toEqual({ 'hello-w2': 30 });
  });

  it('re-ranks live when a node is relabelled into the same subzone', async () => {
    writeFileSync(join(stateDir, 'nodes.yaml'), nodes('zone1', 'subzone2'));
    const t = await until('w3 to join w2 in the best tier', async () => {
      const r = await answers(200);
      return r['hello-w3'] ? r : undefined;
    });
    expect(Object.keys(t).sort()).toEqual(['hello-w2', 'hello-w3']);
    expect(t['hello-w2']).toBeGreaterThanOrEqual(60);
    expect(t['hello-w3']).toBeGreaterThanOrEqual(60);
  });

  it('skips a bad object next to good ones, names it in the metrics, and keeps serving', async () => {
    writeFileSync(join(stateDir, 'bad.yaml'), `apiVersion: v1
kind: Service
metadata: {name: broken, namespace: sample}
spec:
  clusterIP: 10.96.0.300
  ports: [{port: 80, protocol: TCP}]
`);
    const metrics = await until('the rejection to be counted', async () => {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      return /nearby_objects_rejected\{[^}]*\} [1-9]/.test(text) ? text : undefined;
    });
    expect(metrics).toMatch(/nearby_objects_rejected\{/);
    expect(agentLog).toContain('sample/broken');
    const r = await answers(60);
    expect(Object.keys(r).sort()).toEqual(['hello-w2', 'hello-w3']);
  });

  it('keeps the datapath serving after the agent stops', async () => {
    agent!.kill('SIGTERM');
    const code = await new Promise((r) => agent!.once('exit', (c) => r(c)));
    expect(code).toBe(0);
    const r = await answers(40);
    expect(Object.keys(r).sort()).toEqual(['hello-w2', 'hello-w3']);
  });
});
