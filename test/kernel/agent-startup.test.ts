// nearby-agent's start as an operator meets it, run as a real process: each way a start can be
// wrong ends at once with exit 2 and a line that says what to fix (and leaves nothing pinned or
// attached); an API server that is not there yet is waited for, not-ready meanwhile, and served
// the moment it answers; a node name the cluster does not know keeps Services working without
// pretending to know what is close, and says so in /readyz.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPinnedState } from '../../pkg/datapath/index.js';
import { FakeApiServer } from '../unit/source/fake-api-server.js';
import { endpointSliceYaml, nodeYaml } from '../fixtures/manifests.js';
import { type AgentRun, attachedPrograms, freePort, health, requireTool, runAgentToExit, startAgent, until } from './agent-process.js';
import { tally } from './datapath-fixture.js';
import { assertKernelPrereqs, type Client, KernelLab, type SimNode } from '../../lab/kernel-lab/index.js';
import { ifSetUp } from '../fixtures/if-set-up.js';

/** Small maps: the lab needs a handful of entries, and four agents share the machine. */
const SIZES = ['--max-services', '64', '--max-backends', '64', '--max-slots', '256', '--max-rev-nat', '256', '--max-counters', '512'];

let lab: KernelLab;
let stateDir: string;
const agents: AgentRun[] = [];
const servers: FakeApiServer[] = [];

beforeAll(async () => {
  assertKernelPrereqs();
  lab = await KernelLab.create('startup');
  stateDir = mkdtempSync(join(tmpdir(), 'nearby-startup-'));
});

afterAll(async () => {
  for (const agent of agents) await agent.kill();
  for (const server of servers) await server.close();
  await ifSetUp(lab)?.destroy(); // also removes the pin roots of its nodes
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
});

function launch(args: string[], env: NodeJS.ProcessEnv = {}): AgentRun {
  const agent = startAgent({ args, env });
  agents.push(agent);
  return agent;
}

describe('start-up errors end the agent with exit 2 and say what to fix', () => {
  it('a missing node name names --node-name and NODE_NAME', async () => {
    const node = await lab.addNode('noname');
    const { code, log } = await runAgentToExit({
      args: ['--cgroup-path', node.cgroupPath, '--state-dir', stateDir, '--listen', '127.0.0.1:0'],
    });
    expect(code).toBe(2);
    expect(log).toMatch(/^nearby-agent: missing-node-name: --node-name or NODE_NAME is required/m);
    expect(existsSync(node.pinRoot)).toBe(false);
  });

  it('a cgroup that does not exist is named, and nothing is pinned', async () => {
    const node = await lab.addNode('nocgroup');
    const missing = join(node.cgroupPath, 'not-there');
    const { code, log } = await runAgentToExit({
      args: ['--node-name', node.nodeName, '--cgroup-path', missing, '--state-dir', stateDir, '--listen', '127.0.0.1:0'],
    });
    expect(code).toBe(2);
    expect(log).toContain(`nearby-agent: missing-cgroup: cgroup ${missing} does not exist (--cgroup-path/NEARBY_CGROUP_PATH)`);
    expect(existsSync(node.pinRoot)).toBe(false);
  });

  it('root without capabilities gets no-bpf-permission, and nothing is pinned or attached', async () => {
    const setpriv = requireTool('setpriv', 'util-linux');
    const node = await lab.addNode('nocaps');
    const { code, log } = await runAgentToExit({
      // Still uid 0 (so bpffs and the cgroup are writable as files): only the capabilities go.
      wrapper: [setpriv, '--bounding-set=-all', '--inh-caps=-all', '--ambient-caps=-all', '--'],
      args: ['--node-name', node.nodeName, '--cgroup-path', node.cgroupPath, '--state-dir', stateDir, '--listen', '127.0.0.1:0'],
    });
    expect(code).toBe(2);
    expect(log).toMatch(
      /^nearby-agent: no-bpf-permission: no permission to load BPF programs or pin under \S+ \(.*EPERM.*\): run with CAP_BPF/m,
    );
    expect(log).toContain(node.pinRoot);
    expect(existsSync(node.pinRoot)).toBe(false);
    expect(attachedPrograms(node.cgroupPath)).toEqual([]);
  });
});

describe('an API server that cannot be reached yet', () => {
  const VIP = '10.96.3.40';
  const POD = '10.244.30.1';
  let node: SimNode;
  let client: Client;
  let agent: AgentRun;
  let apiPort: number;
  let healthPort: number;

  beforeAll(async () => {
    node = await lab.addNode('api');
    await lab.addPod('api-web', [POD], [{ port: 7000, proto: 'tcp' }]);
    client = await node.client();
    apiPort = await freePort();
    healthPort = await freePort();
    const kubeconfig = join(stateDir, 'kubeconfig.yaml');
    writeFileSync(
      kubeconfig,
      `apiVersion: v1
kind: Config
clusters: [{name: lab, cluster: {server: "http://127.0.0.1:${apiPort}", insecure-skip-tls-verify: true}}]
users: [{name: lab, user: {}}]
contexts: [{name: lab, context: {cluster: lab, user: lab}}]
current-context: lab
`,
    );
    agent = launch(
      [
        '--node-name',
        node.nodeName,
        '--cgroup-path',
        node.cgroupPath,
        '--kubeconfig',
        kubeconfig,
        '--listen',
        `127.0.0.1:${healthPort}`,
        ...SIZES,
      ],
      // The default first wait is 1 s, doubling to 30 s; scaled down so the doubling shows quickly.
      { NEARBY_API_RETRY_MS: '100', NEARBY_API_RETRY_MAX_MS: '800' },
    );
  });

  afterAll(async () => {
    await ifSetUp(client)?.close();
  });

  const retries = () => agent.records().filter((r) => r['msg'] === 'source did not start; retrying');

  it('keeps running: live, not ready with a reason that says it retries', async () => {
    await until('/healthz', async () => ((await health(healthPort, '/healthz')).status === 200 ? true : undefined), agent.log, 20_000);
    const ready = await until(
      'a retry in /readyz',
      async () => {
        const r = await health(healthPort, '/readyz');
        return r.body.includes('retrying') ? r : undefined;
      },
      agent.log,
    );
    expect(ready.status).toBe(503);
    expect(ready.body).toMatch(
      new RegExp(
        `^not ready: API server http://127\\.0\\.0\\.1:${apiPort} unreachable: .*ECONNREFUSED.*; retrying in \\d+\\.\\ds \\(attempt \\d+\\)`,
      ),
    );
    expect(agent.child.exitCode).toBeNull();
  });

  it('logs each retry with a growing wait, up to the ceiling', async () => {
    await until('five retries', () => (retries().length >= 5 ? true : undefined), agent.log, 10_000);
    const waits = retries().map((r) => r['retryInMs'] as number);
    const attempts = retries().map((r) => r['attempt'] as number);
    expect(attempts).toEqual(attempts.map((_, i) => i + 1));
    // 100, 200, 400, 800 (each up to 20% more for jitter), then held at the 800 ms ceiling.
    expect(waits[0]).toBeGreaterThanOrEqual(100);
    expect(waits[0]).toBeLessThanOrEqual(120);
    for (let i = 1; i < waits.length; i++) {
      expect(waits[i]).toBeLessThanOrEqual(800);
      if (waits[i - 1]! < 800) expect(waits[i]).toBeGreaterThan(waits[i - 1]!);
    }
    expect(waits.slice(0, 4).map((w) => Math.round(Math.log2(w / 100)))).toEqual([0, 1, 2, 3]);
    // Nothing is programmed while the cluster is unknown: an empty plan would read as "remove all".
    expect(readPinnedState(node.pinRoot).services).toEqual([]);
  });

  it('becomes ready and programs the Service once the API server answers', async () => {
    const api = new FakeApiServer();
    servers.push(api);
    api.apply('/api/v1/nodes', {
      metadata: { name: node.nodeName, labels: { 'topology.kubernetes.io/region': 'r', 'topology.kubernetes.io/zone': 'z1' } },
      spec: {},
    });
    api.apply('/api/v1/namespaces', { metadata: { name: 'sample' } });
    api.apply('/api/v1/services', {
      metadata: { name: 'web', namespace: 'sample' },
      spec: {
        clusterIP: VIP,
        clusterIPs: [VIP],
        trafficDistribution: 'PreferClose',
        ports: [{ name: 'http', port: 7000, targetPort: 7000, protocol: 'TCP' }],
      },
    });
    api.apply('/apis/discovery.k8s.io/v1/endpointslices', {
      metadata: { name: 'web-abc', namespace: 'sample', labels: { 'kubernetes.io/service-name': 'web' } },
      addressType: 'IPv4',
      endpoints: [
        {
          addresses: [POD],
          conditions: { ready: true },
          nodeName: node.nodeName,
          targetRef: { kind: 'Pod', namespace: 'sample', name: 'api-web' },
        },
      ],
      ports: [{ name: 'http', port: 7000, protocol: 'TCP' }],
    });
    await api.listen(apiPort);

    const ready = await until(
      'ready',
      async () => {
        const r = await health(healthPort, '/readyz');
        return r.status === 200 ? r : undefined;
      },
      agent.log,
      10_000,
    );
    expect(ready.body).toMatch(/^ready: 1 service intercepted \(1 VIP:port entry\)/);
    expect(agent.records().some((r) => r['msg'] === 'source started' && (r['attempt'] as number) > 1)).toBe(true);

    const svc = readPinnedState(node.pinRoot).services.find((s) => s.key.address === VIP && s.key.port === 7000);
    expect(svc?.mode).toBe('FAILOVER');
    expect(svc?.tiers[0]?.map((b) => `${b.address}:${b.port}`)).toEqual([`${POD}:7000`]);
    expect(attachedPrograms(node.cgroupPath).length).toBeGreaterThan(0);
    expect(tally(await client.connect({ address: VIP, port: 7000, proto: 'tcp', count: 10 }))).toEqual({ 'api-web': 10 });
  });

  it('stops cleanly on SIGTERM', async () => {
    agent.child.kill('SIGTERM');
    expect(await agent.exited).toBe(0);
  });
});

describe('a node name the cluster does not know', () => {
  const SPREAD = '10.96.3.50';
  const LOCAL = '10.96.3.51';
  const PODS = { w2: '10.244.31.2', w3: '10.244.31.3' };
  let node: SimNode;
  let client: Client;
  let agent: AgentRun;
  let healthPort: number;
  let dir: string;

  const service = (name: string, vip: string, policy: string): string => `apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: sample}
spec:
  clusterIP: ${vip}
  clusterIPs: ["${vip}"]
  ${policy}
  ports: [{name: http, port: 7100, targetPort: 7100, protocol: TCP}]
`;
  const endpoints = (name: string) =>
    endpointSliceYaml(name, 7100, [
      { address: PODS.w2, node: 'w2', pod: 'stray-w2' },
      { address: PODS.w3, node: 'w3', pod: 'stray-w3' },
    ]);
  const pinned = (vip: string) => readPinnedState(node.pinRoot).services.find((s) => s.key.address === vip && s.key.port === 7100);
  const connects = async (vip: string, count: number) => tally(await client.connect({ address: vip, port: 7100, proto: 'tcp', count }));

  beforeAll(async () => {
    node = await lab.addNode('stray');
    await lab.addPod('stray-w2', [PODS.w2], [{ port: 7100, proto: 'tcp' }]);
    await lab.addPod('stray-w3', [PODS.w3], [{ port: 7100, proto: 'tcp' }]);
    client = await node.client();
    dir = join(stateDir, 'stray');
    mkdirSync(dir);
    writeFileSync(join(dir, 'nodes.yaml'), [nodeYaml('w2', 'r', 'z1', 's1'), nodeYaml('w3', 'r', 'z2', 's2')].join('---\n'));
    writeFileSync(
      join(dir, 'services.yaml'),
      [service('spread', SPREAD, 'trafficDistribution: PreferClose'), service('local', LOCAL, 'internalTrafficPolicy: Local')].join(
        '---\n',
      ),
    );
    writeFileSync(join(dir, 'slices.yaml'), [endpoints('spread'), endpoints('local')].join('---\n'));
    healthPort = await freePort();
    agent = launch([
      '--node-name',
      node.nodeName,
      '--cgroup-path',
      node.cgroupPath,
      '--state-dir',
      dir,
      '--listen',
      `127.0.0.1:${healthPort}`,
      ...SIZES,
    ]);
  });

  afterAll(async () => {
    await ifSetUp(client)?.close();
  });

  it('stays up and live, but not ready, naming the node and the flag', async () => {
    const ready = await until(
      'a reconcile that saw the node missing',
      async () => {
        const r = await health(healthPort, '/readyz');
        return r.body.includes("not among the cluster's Nodes") ? r : undefined;
      },
      agent.log,
      20_000,
    );
    expect(ready.status).toBe(503);
    expect(ready.body).toContain(`node ${node.nodeName} is not among the cluster's Nodes (check --node-name/NODE_NAME)`);
    expect((await health(healthPort, '/healthz')).status).toBe(200);
    expect(agent.records().some((r) => r['msg'] === 'planner warning' && r['reason'] === 'unknown-client-node')).toBe(true);
  });

  it('ranks no endpoint close: PreferClose spreads over all of them in one tier', async () => {
    const svc = pinned(SPREAD);
    expect(svc?.mode).toBe('FAILOVER');
    const used = svc!.tiers.findIndex((t) => t.length > 0);
    expect(used).toBe(svc!.tiers.length - 1); // the farthest tier: nothing is known to be closer
    expect(svc!.tiers[used]!.map((b) => b.address).sort()).toEqual([PODS.w2, PODS.w3]);
    const t = await connects(SPREAD, 80);
    expect(Object.keys(t).sort()).toEqual(['stray-w2', 'stray-w3']);
  });

  it('claims no endpoint as node-local: internalTrafficPolicy Local refuses at once', async () => {
    const svc = pinned(LOCAL);
    expect(svc?.mode).toBe('STRICT');
    expect(svc!.tiers.flat()).toEqual([]);
    expect(await connects(LOCAL, 5)).toEqual({ '!ECONNREFUSED': 5 });
  });

  it('becomes ready and ranks by locality as soon as the Node appears', async () => {
    writeFileSync(
      join(dir, 'nodes.yaml'),
      [nodeYaml('w2', 'r', 'z1', 's1'), nodeYaml('w3', 'r', 'z2', 's2'), nodeYaml(node.nodeName, 'r', 'z1', 's1')].join('---\n'),
    );
    await until('ready', async () => ((await health(healthPort, '/readyz')).status === 200 ? true : undefined), agent.log);
    const svc = pinned(SPREAD);
    expect(svc!.tiers[0]!.map((b) => b.address)).toEqual([PODS.w2]);
    expect(await connects(SPREAD, 20)).toEqual({ 'stray-w2': 20 });
    expect(pinned(LOCAL)!.tiers.flat()).toEqual([]);
  });
});
