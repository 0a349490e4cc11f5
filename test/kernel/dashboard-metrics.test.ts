// Every metric the Grafana dashboard queries, checked against a running nearby-agent: the real
// process on a FileSource and a lab node's cgroup, driven so that each series the panels read has
// samples (connects through the datapath, a Service too big for the backends map, a bad object, an
// unknown policy, a map entry deleted behind the agent's back), then one scrape of /metrics.
// Histogram panels read <base>_bucket: /metrics declares <base> and serves <base>_bucket samples.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { svcKey, unpinDatapath } from '../../pkg/datapath/index.js';
import { allPanels, readDashboard } from '../tools/dashboard/dashboard-types.js';
import { declaredName, promqlNames } from '../tools/dashboard/promql-names.js';
import { endpointSliceYaml, nodeYaml } from '../fixtures/manifests.js';
import { type AgentRun, freePort, requireTool, ROOT, startAgent, until as untilAgent } from './agent-process.js';
import { tally } from './datapath-fixture.js';
import { assertKernelPrereqs, type Client, KernelLab, type SimNode } from '../../lab/kernel-lab/index.js';
import { ifSetUp } from '../fixtures/if-set-up.js';

const VIP = '10.96.0.40';
const BIG_VIP = '10.96.0.41';
const PODS = { me: '10.244.1.40', w2: '10.244.2.40' };
/** Labels a scrape adds; the agent itself never sets them. */
const TARGET_LABELS = new Set(['node', 'instance', 'job', 'pod', 'namespace']);

let lab: KernelLab;
let node: SimNode;
let client: Client;
let agent: AgentRun | undefined;
let stateDir: string;
let port: number;
let scrape: Scrape;

const until = <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> =>
  untilAgent(what, probe, () => agent?.log() ?? '', timeoutMs);

const service = (name: string, vip: string, port: number, extra = ''): string => `apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: sample}
spec:
  clusterIP: ${vip}
  clusterIPs: ["${vip}"]
${extra}  ports: [{name: http, port: ${port}, targetPort: ${port}, protocol: TCP}]
`;

interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

interface Scrape {
  readonly text: string;
  /** `# TYPE` lines: name -> type. */
  readonly types: ReadonlyMap<string, string>;
  readonly samples: readonly Sample[];
}

/** The Prometheus text format, as far as these assertions need it. */
function parseExposition(text: string): Scrape {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) types.set(type[1]!, type[2]!);
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{(.*)\})? (\S+)/.exec(line);
    if (!m) throw new Error(`cannot read the /metrics line ${JSON.stringify(line)}`);
    const labels = Object.fromEntries(
      [...(m[2] ?? '').matchAll(/([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1]!, l[2]!]),
    );
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return { text, types, samples };
}

const scrapeNow = async (): Promise<Scrape> => parseExposition(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text());

/** Every metric name the dashboard's queries use, with the labels its matchers and groupings name. */
function dashboardMetrics(): Map<string, Set<string>> {
  const used = new Map<string, Set<string>>();
  for (const panel of allPanels(readDashboard(join(ROOT, 'deploy/grafana/nearby-dashboard.json')))) {
    for (const target of panel.targets ?? []) {
      const names = promqlNames(target.expr);
      const grouped = names.groupings.flatMap((g) => g.labels);
      for (const s of names.selectors) {
        const labels = used.get(s.metric) ?? new Set<string>();
        for (const l of [...s.labels, ...grouped]) if (!TARGET_LABELS.has(l) && l !== 'le') labels.add(l);
        used.set(s.metric, labels);
      }
    }
  }
  return used;
}

beforeAll(async () => {
  assertKernelPrereqs();
  const bpftool = requireTool('bpftool', 'bpftool');
  lab = await KernelLab.create('dashmetrics');
  node = await lab.addNode('w1');
  await lab.addPod('hello-w1', [PODS.me], [{ port: 5000, proto: 'tcp' }]);
  await lab.addPod('hello-w2', [PODS.w2], [{ port: 5000, proto: 'tcp' }]);
  client = await node.client();
  stateDir = mkdtempSync(join(tmpdir(), 'nearby-dashmetrics-'));
  writeFileSync(
    join(stateDir, 'nodes.yaml'),
    [nodeYaml(node.nodeName, 'region', 'zone1', 'subzone1'), nodeYaml('w2', 'region', 'zone1', 'subzone2')].join('---\n'),
  );
  writeFileSync(
    join(stateDir, 'helloworld.yaml'),
    `${service('helloworld', VIP, 5000, '  trafficDistribution: PreferClose\n')}---\n${endpointSliceYaml('helloworld', 5000, [
      { address: PODS.me, node: node.nodeName, pod: 'hello-w1' },
      { address: PODS.w2, node: 'w2', pod: 'hello-w2' },
    ])}`,
  );
  // Five endpoints where the backends map holds four: refused as a whole (map-full), the rest untouched.
  writeFileSync(
    join(stateDir, 'big.yaml'),
    `${service('big', BIG_VIP, 80)}---\n${endpointSliceYaml(
      'big',
      80,
      [1, 2, 3, 4, 5].map((k) => ({ address: `10.244.9.${k}`, node: 'w2', pod: `big-${k}` })),
    )}`,
  );
  // A policy the planner does not know (a warning) and a clusterIP that is no address (a rejection).
  writeFileSync(
    join(stateDir, 'odd.yaml'),
    `${service('odd', '10.96.0.42', 81, '  trafficDistribution: PreferSomewhere\n')}---\n${service('broken', '10.96.0.300', 82)}`,
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
      '16',
      '--max-backends',
      '4',
      '--max-slots',
      '64',
      '--max-rev-nat',
      '64',
      '--max-counters',
      '64',
      '--resync-seconds',
      '1',
    ],
  });
  await until('the agent to be ready', async () => ((await fetch(`http://127.0.0.1:${port}/readyz`)).ok ? true : undefined), 20_000);

  const answers = tally(await client.connect({ address: VIP, port: 5000, proto: 'tcp', count: 20 }));
  expect(answers).toEqual({ 'hello-w1': 20 });
  // Drift: the helloworld entry deleted by hand; the 1 s resync puts it back and counts it.
  const key = [...svcKey.encode({ address: VIP, port: 5000, protocol: 'TCP' })].map((b) => b.toString(16).padStart(2, '0'));
  execFileSync(bpftool, ['map', 'delete', 'pinned', join(node.pinRoot, 'maps', 'services'), 'key', 'hex', ...key]);
  scrape = await until('drift repair and a map write error to show in /metrics', async () => {
    const s = await scrapeNow();
    const has = (name: string): boolean => s.samples.some((x) => x.name === name && x.value > 0);
    return has('nearby_drift_repaired_total') && has('nearby_map_write_errors_total') ? s : undefined;
  });
});

afterAll(async () => {
  await agent?.kill();
  await ifSetUp(client)?.close();
  if (ifSetUp(node)) unpinDatapath(node.pinRoot);
  await ifSetUp(lab)?.destroy();
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
});

describe('the metrics the Grafana dashboard queries, on a running agent', () => {
  it('queries a dozen or more metrics of the agent', () => {
    expect(dashboardMetrics().size).toBeGreaterThanOrEqual(12);
  });

  it('finds each one declared in /metrics (histogram series under their base name)', () => {
    const histograms = new Set([...scrape.types].filter(([, t]) => t === 'histogram').map(([n]) => n));
    const undeclared = [...dashboardMetrics().keys()].filter((m) => !scrape.types.has(declaredName(m, histograms)));
    expect(undeclared).toEqual([]);
  });

  it('finds samples of each one, carrying every label the panels match or group by', () => {
    const problems: string[] = [];
    for (const [metric, labels] of dashboardMetrics()) {
      const samples = scrape.samples.filter((s) => s.name === metric);
      if (samples.length === 0) problems.push(`${metric}: no samples`);
      for (const l of labels) if (!samples.some((s) => l in s.labels)) problems.push(`${metric}: no sample with label ${l}`);
    }
    expect(problems, scrape.text).toEqual([]);
  });

  it('counts the connects in tier 0 of the Service that made them, and gives it a tier-0 share of 1', () => {
    const connects = scrape.samples.filter((s) => s.name === 'nearby_connects_total' && s.labels['service'] === 'sample/helloworld');
    expect(connects.map((s) => [s.labels['tier'], s.value])).toEqual([['0', 20]]);
    expect(scrape.samples.find((s) => s.name === 'nearby_connects_tier0_ratio' && s.labels['service'] === 'sample/helloworld')?.value).toBe(
      1,
    );
  });

  it('reports the refused Service, the bad object and the unknown policy by the reasons the panels show', () => {
    const value = (name: string, labels: Record<string, string>): number | undefined =>
      scrape.samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
    expect(value('nearby_map_write_errors_total', { map: 'backends' })).toBeGreaterThan(0);
    expect(value('nearby_services_failed', { reason: 'map-full' })).toBe(1);
    expect(value('nearby_objects_rejected', { reason: 'bad-ip' })).toBe(1);
    expect(value('nearby_planner_warnings', { reason: 'unknown-policy' })).toBe(1);
    expect(value('nearby_drift_repaired_total', { map: 'services' })).toBeGreaterThan(0);
    expect(value('nearby_services_programmed', { mode: 'FAILOVER' })).toBe(1);
    expect(value('nearby_endpoints_programmed', { mode: 'FAILOVER', tier: '0' })).toBe(1);
  });
});
