import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeForExplain, nodeForMaps, pinnedNodes } from '../../../cmd/ctl/node-choice.js';
import type { PlanJson } from '../../../cmd/ctl/plan-view.js';
import { runNearbyctl } from '../../../cmd/ctl/run.js';
import { endpointSliceYaml, nodeYaml } from '../../fixtures/manifests.js';

/** Seed 000 as kubectl-style manifests: three workers, one helloworld pod each, PreferClose. */
const NODES = [nodeYaml('w1', 'r', 'z1', 's1'), nodeYaml('w2', 'r', 'z1', 's2'), nodeYaml('w3', 'r', 'z2', 's3')].join('---\n');

const SERVICES = `
apiVersion: v1
kind: Service
metadata: {name: helloworld, namespace: sample}
spec:
  clusterIP: 10.96.0.100
  trafficDistribution: PreferClose
  ports: [{name: http, port: 5000, protocol: TCP}]
---
apiVersion: v1
kind: Service
metadata: {name: headless, namespace: sample}
spec:
  clusterIP: None
  ports: [{name: http, port: 5000}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: helloworld-w1, namespace: sample}
spec: {replicas: 1}
`;

const SLICES = endpointSliceYaml('helloworld', 5000, [
  { address: '10.244.1.10', node: 'w1', pod: 'helloworld-w1' },
  { address: '10.244.2.10', node: 'w2', pod: 'helloworld-w2' },
  { address: '10.244.3.10', node: 'w3', pod: 'helloworld-w3' },
]);

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'nearbyctl-'));
  writeFileSync(join(dir, 'nodes.yaml'), NODES);
  writeFileSync(join(dir, 'services.yaml'), SERVICES);
  writeFileSync(join(dir, 'slices.yaml'), SLICES);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs nearbyctl in-process with an env of the test's choosing (never the runner's NODE_NAME). */
async function ctlWith(env: NodeJS.ProcessEnv, ...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runNearbyctl(argv, { out: (t) => out.push(t), err: (t) => err.push(t) }, env);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const ctl = (...argv: string[]) => ctlWith({}, ...argv);

const ep = (node: string, address: string) => ({ address, port: 5000, node, pod: `sample/helloworld-${node}` });

describe('nearbyctl plan --json', () => {
  it('gives seed 000 tiers closest first for a client on w1', async () => {
    const { code, out } = await ctl('plan', '--state', dir, '--node', 'w1', '--json');
    expect(code).toBe(0);
    expect(JSON.parse(out)).toEqual({
      node: 'w1',
      services: [
        {
          service: 'sample/helloworld',
          mode: 'FAILOVER',
          ports: [5000],
          tiers: [
            { endpoints: [ep('w1', '10.244.1.10')] },
            { endpoints: [ep('w2', '10.244.2.10')] },
            { endpoints: [ep('w3', '10.244.3.10')] },
          ],
        },
      ],
    });
  });

  it('ranks from the node asked about, and honours --prefer-close zone', async () => {
    const w3 = JSON.parse((await ctl('plan', '--state', dir, '--node', 'w3', '--json')).out) as PlanJson;
    expect(w3.services[0]!.tiers.map((t) => t.endpoints.map((e) => e.node))).toEqual([['w3'], [], ['w1', 'w2']]);
    const zone = JSON.parse((await ctl('plan', '--state', dir, '--node', 'w1', '--json', '--prefer-close', 'zone')).out) as PlanJson;
    expect(zone.services[0]!.tiers.map((t) => t.endpoints.map((e) => e.node))).toEqual([['w1', 'w2'], ['w3']]);
  });

  it('explains itself in text: the reason, the tier used, and the skipped headless Service', async () => {
    const { code, out } = await ctl('plan', '--state', dir, '--node', 'w1');
    expect(code).toBe(0);
    expect(out).toContain('sample/helloworld  FAILOVER');
    expect(out).toMatch(/tier 0 {2}<- used: 10\.244\.1\.10:5000/);
    expect(out).toMatch(/sample\/headless: headless/);
  });

  it('fails with exit 2 and a usage line when --node is missing', async () => {
    const { code, err } = await ctl('plan', '--state', dir);
    expect(code).toBe(2);
    expect(err).toContain('--node is required');
  });
});

describe('nearbyctl explain', () => {
  it('names the tier a connect from this node uses, and why', async () => {
    const { code, out } = await ctl('explain', 'sample/helloworld', '--state', dir, '--node', 'w2');
    expect(code).toBe(0);
    expect(out).toContain('a connect from w2 uses tier 0');
    expect(out).toContain('10.244.2.10:5000');
    expect(out).toMatch(/subzone "s2" vs "s1": differ/);
  });

  it('says a headless Service is not intercepted', async () => {
    const { code, out } = await ctl('explain', 'sample/headless', '--state', dir, '--node', 'w1');
    expect(code).toBe(0);
    expect(out).toMatch(/not intercepted.*headless/);
  });

  it('exits 1 for a Service that does not exist', async () => {
    expect((await ctl('explain', 'sample/nope', '--state', dir, '--node', 'w1')).code).toBe(1);
  });
});

describe('explain without --node', () => {
  it('explains for $NODE_NAME, as inside the agent pod', async () => {
    const { code, out } = await ctlWith({ NODE_NAME: 'w2' }, 'explain', 'sample/helloworld', '--state', dir);
    expect(code).toBe(0);
    expect(out).toContain('a connect from w2 uses tier 0');
  });

  it('lets --node win over $NODE_NAME', async () => {
    const { out } = await ctlWith({ NODE_NAME: 'w2' }, 'explain', 'sample/helloworld', '--state', dir, '--node', 'w3');
    expect(out).toContain('a connect from w3 uses tier 0');
  });

  it('fails with exit 2 naming --node and NODE_NAME when neither is there', async () => {
    const { code, err } = await ctl('explain', 'sample/helloworld', '--state', dir);
    expect(code).toBe(2);
    expect(err).toContain('--node NAME or NODE_NAME is required');
    expect(nodeForExplain(undefined, { NODE_NAME: 'w1' })).toBe('w1');
  });
});

describe('maps without --node', () => {
  let bpffs: string;
  const pin = (...nodes: string[]) => {
    rmSync(join(bpffs, 'nearby'), { recursive: true, force: true });
    for (const n of nodes) mkdirSync(join(bpffs, 'nearby', n, 'maps'), { recursive: true });
  };

  beforeAll(() => {
    bpffs = mkdtempSync(join(tmpdir(), 'nearbyctl-bpffs-'));
  });
  afterAll(() => rmSync(bpffs, { recursive: true, force: true }));

  it('takes --node first, then $NODE_NAME, then the only pinned node', () => {
    pin('only-node');
    expect(nodeForMaps('flagged', { NODE_NAME: 'from-env' }, bpffs)).toBe('flagged');
    expect(nodeForMaps(undefined, { NODE_NAME: 'from-env' }, bpffs)).toBe('from-env');
    expect(nodeForMaps(undefined, {}, bpffs)).toBe('only-node');
  });

  it('lists only directories, and none when nothing was ever pinned', () => {
    rmSync(join(bpffs, 'nearby'), { recursive: true, force: true });
    expect(pinnedNodes(bpffs)).toEqual([]);
    pin('b-node', 'a-node');
    writeFileSync(join(bpffs, 'nearby', 'stray-file'), '');
    expect(pinnedNodes(bpffs)).toEqual(['a-node', 'b-node']);
  });

  it('refuses to guess among several pinned nodes and names them (exit 2)', async () => {
    pin('b-node', 'a-node');
    const { code, err } = await ctl('maps', '--bpffs', bpffs);
    expect(code).toBe(2);
    expect(err).toContain(`2 nodes are pinned under ${join(bpffs, 'nearby')}: a-node, b-node`);
    expect(err).toContain('--node NAME or NODE_NAME');
  });

  it('says no node is pinned when there is none (exit 2), and reads $NEARBY_BPFFS', async () => {
    pin();
    const { code, err } = await ctlWith({ NEARBY_BPFFS: bpffs }, 'maps');
    expect(code).toBe(2);
    expect(err).toContain(`no node is pinned under ${join(bpffs, 'nearby')}`);
  });
});

describe('the nearbyctl bin', () => {
  it('runs as a program and prints the same JSON', async () => {
    const run = promisify(execFile);
    const { stdout } = await run('npx', ['tsx', 'cmd/nearbyctl.ts', 'plan', '--state', dir, '--node', 'w1', '--json'], {
      cwd: process.cwd(),
    });
    expect((JSON.parse(stdout) as PlanJson).services[0]!.tiers[0]!.endpoints[0]!.node).toBe('w1');
  });
});

describe('nearbyctl plan: the DestinationRule flags, as the agent takes them', () => {
  let ruleDir: string;
  /** enabled: false puts every endpoint in one tier, so whether the rule applied shows in the tiers. */
  const rule = (namespace: string, host: string): string => `
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: no-locality, namespace: ${namespace}, creationTimestamp: "2024-01-01T00:00:00Z"}
spec:
  host: ${host}
  trafficPolicy: {loadBalancer: {localityLbSetting: {enabled: false}}}
`;
  const tiersFrom = async (...flags: string[]): Promise<string[][]> => {
    const { out } = await ctl('plan', '--state', ruleDir, '--node', 'w1', '--json', ...flags);
    const services = (JSON.parse(out) as PlanJson).services.filter((s) => s.service === 'sample/helloworld');
    return services[0]!.tiers.map((t) => t.endpoints.map((e) => e.node ?? '')).filter((nodes) => nodes.length > 0);
  };

  beforeAll(() => {
    ruleDir = mkdtempSync(join(tmpdir(), 'nearbyctl-rules-'));
    writeFileSync(join(ruleDir, 'nodes.yaml'), NODES);
    writeFileSync(join(ruleDir, 'services.yaml'), SERVICES);
    writeFileSync(join(ruleDir, 'slices.yaml'), SLICES);
  });

  afterAll(() => rmSync(ruleDir, { recursive: true, force: true }));

  it('--istio-root-namespace names where a rule applies to every namespace', async () => {
    writeFileSync(join(ruleDir, 'rule.yaml'), rule('mesh-root', 'helloworld.sample.svc.cluster.local'));
    expect(await tiersFrom()).toEqual([['w1'], ['w2'], ['w3']]);
    expect(await tiersFrom('--istio-root-namespace', 'mesh-root')).toEqual([['w1', 'w2', 'w3']]);
  });

  it('--cluster-domain names the domain of full hosts', async () => {
    writeFileSync(join(ruleDir, 'rule.yaml'), rule('sample', 'helloworld.sample.svc.corp.example'));
    expect(await tiersFrom()).toEqual([['w1'], ['w2'], ['w3']]);
    expect(await tiersFrom('--cluster-domain', 'corp.example')).toEqual([['w1', 'w2', 'w3']]);
  });

  it('refuses a bad domain or namespace with exit 2', async () => {
    expect((await ctl('plan', '--state', ruleDir, '--node', 'w1', '--cluster-domain', 'Not_A.Domain')).code).toBe(2);
    expect((await ctl('plan', '--state', ruleDir, '--node', 'w1', '--istio-root-namespace', 'a/b')).code).toBe(2);
  });
});

describe('plan and explain against a cluster', () => {
  it('names a kubeconfig that does not parse in one line, and exits 2 without a stack', async () => {
    const file = join(dir, 'broken-kubeconfig');
    writeFileSync(file, 'apiVersion: v1\nclusters: [\n  - name: x\n   bad: indent\n');
    for (const command of [
      ['plan', '--node', 'w1'],
      ['explain', 'sample/helloworld', '--node', 'w1'],
    ]) {
      const { code, out, err } = await ctl(...command, '--kubeconfig', file);
      expect(code).toBe(2);
      expect(out).toBe('');
      expect(err).toMatch(new RegExp(`^nearbyctl: kubeconfig ${file} does not parse: \\S`));
      expect(err.split('\n')).toHaveLength(1);
      expect(err).not.toMatch(/\bat .*\.[jt]s:\d+/);
    }
  });

  it('takes $KUBECONFIG when --kubeconfig is not given', async () => {
    const file = join(dir, 'missing-kubeconfig');
    const { code, err } = await ctlWith({ KUBECONFIG: file }, 'plan', '--node', 'w1');
    expect(code).toBe(2);
    expect(err).toBe(`nearbyctl: kubeconfig ${file}: no such file (give --kubeconfig FILE or --state DIR)`);
  });

  it('refuses a context the kubeconfig does not have', async () => {
    const file = join(dir, 'kubeconfig');
    writeFileSync(
      file,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]',
        'users: [{name: u, user: {token: t}}]',
        'contexts: [{name: here, context: {cluster: c, user: u}}]',
        'current-context: here',
      ].join('\n'),
    );
    const { code, err } = await ctl('plan', '--node', 'w1', '--kubeconfig', file, '--context', 'elsewhere');
    expect(code).toBe(2);
    expect(err).toBe(`nearbyctl: kubeconfig ${file} has no context "elsewhere"`);
  });

  it('says when the cluster does not answer within --timeout', async () => {
    const file = join(dir, 'kubeconfig');
    const { code, err } = await ctl('plan', '--node', 'w1', '--kubeconfig', file, '--timeout', '1');
    expect(code).toBe(2);
    expect(err).toMatch(/^nearbyctl: https:\/\/127\.0\.0\.1:1: not listed within 1 s: /);
  });

  it('does not take --state with --kubeconfig', async () => {
    const { code, err } = await ctl('plan', '--node', 'w1', '--state', dir, '--kubeconfig', '/nonexistent');
    expect(code).toBe(2);
    expect(err).toContain('--state reads manifests');
  });
});

describe('explain and the pinned maps', () => {
  it('says when the node has no pins to compare with', async () => {
    const bpffs = mkdtempSync(join(tmpdir(), 'nearbyctl-bpffs-'));
    try {
      const { code, out } = await ctl('explain', 'sample/helloworld', '--state', dir, '--node', 'w2', '--bpffs', bpffs);
      expect(code).toBe(0);
      expect(out).toContain(`no pins at ${join(bpffs, 'nearby', 'w2')}: maps not compared`);
    } finally {
      rmSync(bpffs, { recursive: true, force: true });
    }
  });
});
