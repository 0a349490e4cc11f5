// The whole agent as a process: a FileSource over a manifest directory, the reconciler, and the
// real datapath on a lab node's cgroup. Editing the YAML must move real connects: failover when
// the near endpoint goes, a live node relabel (in the maps within a second of the write), and a
// bad object that harms nothing else. `nearbyctl maps` reads those pins, and only reads them.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runNearbyctl } from '../../cmd/ctl/run.js';
import { BpfCallError, readPinnedState, STRUCTS, svcKey, unpinDatapath } from '../../pkg/datapath/index.js';
import { libbpf } from '../../pkg/datapath/libbpf.js';
import { openPinnedReadOnly } from '../../pkg/datapath/pinned.js';
import { type AgentRun, freePort, startAgent, until as untilAgent } from './agent-process.js';
import { assertKernelPrereqs, type Client, KernelLab, type SimNode } from '../../lab/kernel-lab/index.js';
import { endpointSliceYaml, nodeYaml } from '../fixtures/manifests.js';
import { tally } from './datapath-fixture.js';
import { ifSetUp } from '../fixtures/if-set-up.js';

const VIP = '10.96.0.20';
const PODS = { me: '10.244.1.20', w2: '10.244.2.20', w3: '10.244.3.20' };

let lab: KernelLab;
let node: SimNode;
let client: Client;
let agent: AgentRun | undefined;
let stateDir: string;
let port: number;
const agentLog = (): string => agent?.log() ?? '';

const nodes = (w3Zone: string, w3Subzone: string): string =>
  [
    nodeYaml(node.nodeName, 'region', 'zone1', 'subzone1'),
    nodeYaml('w2', 'region', 'zone1', 'subzone2'),
    nodeYaml('w3', 'region', w3Zone, w3Subzone),
  ].join('---\n');
const endpoints = (pods: Array<[string, string, string]>): string =>
  endpointSliceYaml(
    'helloworld',
    5000,
    pods.map(([address, nodeName, pod]) => ({ address, node: nodeName, pod })),
  );

const SERVICE = `apiVersion: v1
kind: Service
metadata: {name: helloworld, namespace: sample}
spec:
  clusterIP: ${VIP}
  clusterIPs: ["${VIP}"]
  trafficDistribution: PreferClose
  ports: [{name: http, port: 5000, targetPort: 5000, protocol: TCP}]
`;

const until = <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 5000): Promise<T> =>
  untilAgent(what, probe, agentLog, timeoutMs);

/** The helloworld VIP's closest non-empty tier in the pinned maps now: the one connects use. */
function pinnedUsedTier(): string[] {
  const svc = readPinnedState(node.pinRoot).services.find((s) => s.key.address === VIP && s.key.port === 5000);
  return (svc?.tiers.find((t) => t.length > 0) ?? []).map((b) => b.address).sort();
}

/** Writes nodes.yaml and returns how long the pinned maps took to show `used` as the used tier (ms). */
async function relabelLatency(w3Zone: string, w3Subzone: string, used: string[]): Promise<number> {
  const want = JSON.stringify([...used].sort());
  const t0 = performance.now();
  writeFileSync(join(stateDir, 'nodes.yaml'), nodes(w3Zone, w3Subzone));
  for (;;) {
    const elapsed = performance.now() - t0;
    if (JSON.stringify(pinnedUsedTier()) === want) return elapsed;
    if (elapsed > 5000)
      throw new Error(`maps never used the tier ${want} (now ${JSON.stringify(pinnedUsedTier())}); agent log:\n${agentLog().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const answers = async (count = 30) => tally(await client.connect({ address: VIP, port: 5000, proto: 'tcp', count }));
const same = (a: Record<string, number>, b: Record<string, number>) => JSON.stringify(a) === JSON.stringify(b);

beforeAll(async () => {
  assertKernelPrereqs();
  lab = await KernelLab.create('agent');
  node = await lab.addNode('w1');
  for (const [pod, address] of [
    ['hello-w1', PODS.me],
    ['hello-w2', PODS.w2],
    ['hello-w3', PODS.w3],
  ] as const) {
    await lab.addPod(pod, [address], [{ port: 5000, proto: 'tcp' }]);
  }
  client = await node.client();
  stateDir = mkdtempSync(join(tmpdir(), 'nearby-agent-'));
  writeFileSync(join(stateDir, 'nodes.yaml'), nodes('zone2', 'subzone3'));
  writeFileSync(join(stateDir, 'service.yaml'), SERVICE);
  writeFileSync(
    join(stateDir, 'endpoints.yaml'),
    endpoints([
      [PODS.me, node.nodeName, 'hello-w1'],
      [PODS.w2, 'w2', 'hello-w2'],
      [PODS.w3, 'w3', 'hello-w3'],
    ]),
  );
  port = await freePort();
  agent = startAgent({
    args: [
      '--node-name',
      node.nodeName,
      '--state-dir',
      stateDir,
      '--cgroup-path',
      node.cgroupPath,
      '--listen',
      `127.0.0.1:${port}`,
      '--max-services',
      '64',
      '--max-backends',
      '64',
      '--max-slots',
      '256',
      '--max-rev-nat',
      '256',
      '--max-counters',
      '512',
      // A short resync, so the drift test sees a repair soon after it tampers with the maps.
      '--resync-seconds',
      '1',
    ],
  });
  await until('the agent to be ready', async () => ((await fetch(`http://127.0.0.1:${port}/readyz`)).ok ? true : undefined), 20000);
});

afterAll(async () => {
  await agent?.kill();
  await ifSetUp(client)?.close();
  if (ifSetUp(node)) unpinDatapath(node.pinRoot);
  await ifSetUp(lab)?.destroy();
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
});

describe('nearby-agent with a file source on a real datapath', () => {
  it('programs PreferClose: every connect goes to the same-subzone pod', async () => {
    expect(await answers()).toEqual({ 'hello-w1': 30 });
  });

  it('fails over to the same-zone pod when the local endpoint leaves the EndpointSlice', async () => {
    writeFileSync(
      join(stateDir, 'endpoints.yaml'),
      endpoints([
        [PODS.w2, 'w2', 'hello-w2'],
        [PODS.w3, 'w3', 'hello-w3'],
      ]),
    );
    await until('failover to w2', async () => (same(await answers(10), { 'hello-w2': 10 }) ? true : undefined));
    expect(await answers()).toEqual({ 'hello-w2': 30 });
  });

  it('re-ranks live when a node is relabelled into the same subzone, in the maps within a second', async () => {
    // Back and forth a few times, so the bound holds for every relabel and not one lucky one.
    const latencies: number[] = [];
    for (let i = 0; i < 4; i++) {
      latencies.push(await relabelLatency('zone1', 'subzone2', [PODS.w2, PODS.w3]));
      latencies.push(await relabelLatency('zone2', 'subzone3', [PODS.w2]));
    }
    latencies.push(await relabelLatency('zone1', 'subzone2', [PODS.w2, PODS.w3]));
    const sorted = [...latencies].sort((a, b) => a - b);
    console.log(
      `relabel -> pinned maps (ms): median ${sorted[sorted.length >> 1]!.toFixed(0)}, max ${sorted.at(-1)!.toFixed(0)}, all ${latencies.map((l) => l.toFixed(0)).join(' ')}`,
    );
    for (const l of latencies) expect(l).toBeLessThan(1000);

    const t = await until('w3 to join w2 in the best tier', async () => {
      const r = await answers(200);
      return r['hello-w3'] ? r : undefined;
    });
    expect(Object.keys(t).sort()).toEqual(['hello-w2', 'hello-w3']);
    expect(t['hello-w2']).toBeGreaterThanOrEqual(60);
    expect(t['hello-w3']).toBeGreaterThanOrEqual(60);
  });

  it('skips a bad object next to good ones, names it in the metrics, and keeps serving', async () => {
    writeFileSync(
      join(stateDir, 'bad.yaml'),
      `apiVersion: v1
kind: Service
metadata: {name: broken, namespace: sample}
spec:
  clusterIP: 10.96.0.300
  ports: [{port: 80, protocol: TCP}]
`,
    );
    const metrics = await until('the rejection to be counted', async () => {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      return /nearby_objects_rejected\{[^}]*\} [1-9]/.test(text) ? text : undefined;
    });
    expect(metrics).toMatch(/nearby_objects_rejected\{/);
    expect(agentLog()).toContain('sample/broken');
    const r = await answers(60);
    expect(Object.keys(r).sort()).toEqual(['hello-w2', 'hello-w3']);
  });

  it('nearbyctl maps finds the node by $NODE_NAME and shows what is programmed', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runNearbyctl(['maps', '--json'], { out: (t) => out.push(t), err: (t) => err.push(t) }, { NODE_NAME: node.nodeName });
    expect(err).toEqual([]);
    expect(code).toBe(0);
    const maps = JSON.parse(out.join('\n')) as {
      pinRoot: string;
      services: Array<{ vip: string; mode: string; tiers: Array<{ endpoints: Array<{ address: string }> }> }>;
    };
    expect(maps.pinRoot).toBe(node.pinRoot);
    const svc = maps.services.find((s) => s.vip === VIP);
    expect(svc?.mode).toBe('FAILOVER');
    // The local endpoint left earlier: tier 0 (same subzone) is empty, tier 1 (same zone) is used.
    expect(svc?.tiers[0]?.endpoints).toEqual([]);
    expect(svc?.tiers[1]?.endpoints.map((e) => e.address).sort()).toEqual([PODS.w2, PODS.w3]);
  });

  it('nearbyctl explain compares the plan with the pinned maps and shows their counters', async () => {
    const explain = async (...flags: string[]): Promise<string> => {
      const out: string[] = [];
      const err: string[] = [];
      const argv = ['explain', 'sample/helloworld', '--state', stateDir, ...flags];
      const code = await runNearbyctl(argv, { out: (t) => out.push(t), err: (t) => err.push(t) }, { NODE_NAME: node.nodeName });
      // The bad object an earlier step left in the directory is reported, as the agent reports it.
      expect(err.filter((line) => !line.includes('sample/broken'))).toEqual([]);
      expect(code).toBe(0);
      return out.join('\n');
    };
    const same = await explain();
    expect(same).toContain(`pinned maps ${node.pinRoot}:`);
    expect(same).toContain(`${VIP}:5000/TCP: programmed as planned (FAILOVER`);
    expect(same).toMatch(/connects: .*tier 1 [1-9]/);
    expect(same).toContain('the maps match the plan');
    // Planned with another PreferClose meaning than the agent's: the same pins no longer match.
    const other = await explain('--prefer-close', 'zone');
    expect(other).toContain(`${VIP}:5000/TCP: DIFFERS from the plan`);
    expect(other).toContain('the maps do NOT match the plan');
  });

  it('reads the pins through read-only fds: the kernel refuses a write (EPERM)', () => {
    const services = openPinnedReadOnly(join(node.pinRoot, 'maps', 'services'), 'services', STRUCTS.nearby_svc_value.size);
    try {
      const [key] = services.keys();
      expect(key).toBeDefined();
      const before = services.lookup(key!);
      const scribble = Buffer.alloc(services.valueSize, 0xff);
      const refused = (write: () => unknown): number | undefined => {
        try {
          write();
        } catch (error) {
          if (error instanceof BpfCallError) return error.errno;
          throw error;
        }
        return undefined;
      };
      expect(refused(() => services.update(key!, scribble))).toBe(1);
      expect(refused(() => services.delete(key!))).toBe(1);
      expect(services.lookup(key!)).toEqual(before);
    } finally {
      libbpf.close(services.fd);
    }
  });

  it('puts back a service entry deleted behind its back, on the next resync', async () => {
    const pods = Object.keys(await answers(20)).sort();
    const key = [...svcKey.encode({ address: VIP, port: 5000, protocol: 'TCP' })].map((b) => b.toString(16).padStart(2, '0'));
    execFileSync('bpftool', ['map', 'delete', 'pinned', join(node.pinRoot, 'maps', 'services'), 'key', 'hex', ...key]);
    const [lost] = await client.connect({ address: VIP, port: 5000, proto: 'tcp', count: 1 });
    expect(lost?.errno).toBe('ENETUNREACH');
    const t0 = performance.now();
    await until('the resync to repair the entry', async () => ((await answers(1))['!ENETUNREACH'] === undefined ? true : undefined), 5000);
    // The resync runs every second, so the repair lands within about that.
    expect(performance.now() - t0).toBeLessThan(2500);
    expect(Object.keys(await answers(20)).sort()).toEqual(pods);
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toMatch(/nearby_drift_repaired_total\{map="services"\} [1-9]/);
    expect(agentLog()).toContain('maps had drifted');
  });

  it('reads a DestinationRule file: distribute programs WEIGHTED, ROUND_ROBIN rotates in the kernel, a broken rule is refused by name, removing it restores PreferClose', async () => {
    const pinnedService = () => readPinnedState(node.pinRoot).services.find((s) => s.key.address === VIP && s.key.port === 5000);
    // w2 and w3 are both region/zone1/subzone2 by now; the client is region/zone1/subzone1.
    writeFileSync(
      join(stateDir, 'dr.yaml'),
      `apiVersion: networking.istio.io/v1beta1
kind: DestinationRule
metadata: {name: helloworld, namespace: sample}
spec:
  host: helloworld.sample.svc.cluster.local
  trafficPolicy:
    loadBalancer:
      simple: ROUND_ROBIN
      localityLbSetting:
        distribute:
          - from: region/zone1/*
            to: {"region/zone1/subzone2": 100}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: broken, namespace: sample}
spec:
  host: helloworld
  trafficPolicy: {loadBalancer: {localityLbSetting: {failover: [{from: region, to: region}]}}}
`,
    );
    const weighted = await until('WEIGHTED in the maps', () => {
      const svc = pinnedService();
      return Promise.resolve(svc?.mode === 'WEIGHTED' ? svc : undefined);
    });
    expect(weighted.weights[0]).toBe(100);
    expect(weighted.tiers[0]?.map((b) => b.address).sort()).toEqual([PODS.w2, PODS.w3]);
    // Planner to kernel: simple ROUND_ROBIN reaches the service entry, and the rotation is exact.
    expect(weighted.balance).toBe('ROUND_ROBIN');
    const split = await answers(60);
    expect(Object.keys(split).sort()).toEqual(['hello-w2', 'hello-w3']);
    for (const count of Object.values(split)) expect(Math.abs(count - 30)).toBeLessThanOrEqual(1);
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toMatch(/nearby_objects_rejected\{[^}]*reason="dr-failover-same-region"[^}]*\} 1/);
    rmSync(join(stateDir, 'dr.yaml'));
    await until('FAILOVER again', () => Promise.resolve(pinnedService()?.mode === 'FAILOVER' ? true : undefined));
  });

  it('keeps the datapath serving after the agent stops', async () => {
    agent!.child.kill('SIGTERM');
    expect(await agent!.exited).toBe(0);
    const r = await answers(40);
    expect(Object.keys(r).sort()).toEqual(['hello-w2', 'hello-w3']);
  });
});
