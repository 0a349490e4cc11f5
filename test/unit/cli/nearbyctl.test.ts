import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

async function ctl(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runNearbyctl(argv, { out: (t) => out.push(t), err: (t) => err.push(t) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

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
          tiers: [{ endpoints: [ep('w1', '10.244.1.10')] }, { endpoints: [ep('w2', '10.244.2.10')] }, { endpoints: [ep('w3', '10.244.3.10')] }],
        },
      ],
    });
  });

  it('ranks from the node asked about, and honours --prefer-close zone', async () => {
    const w3 = JSON.parse((await ctl('plan', '--state', dir, '--node', 'w3', '--json')).out);
    expect(w3.services[0].tiers.map((t: { endpoints: Array<{ node: string }> }) => t.endpoints.map((e) => e.node))).toEqual([['w3'], [], ['w1', 'w2']]);
    const zone = JSON.parse((await ctl('plan', '--state', dir, '--node', 'w1', '--json', '--prefer-close', 'zone')).out);
    expect(zone.services[0].tiers.map((t: { endpoints: Array<{ node: string }> }) => t.endpoints.map((e) => e.node))).toEqual([['w1', 'w2'], ['w3']]);
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

describe('the nearbyctl bin', () => {
  it('runs as a program and prints the same JSON', async () => {
    const run = promisify(execFile);
    const { stdout } = await run('npx', ['tsx', 'cmd/nearbyctl.ts', 'plan', '--state', dir, '--node', 'w1', '--json'], { cwd: process.cwd() });
    expect(JSON.parse(stdout).services[0].tiers[0].endpoints[0].node).toBe('w1');
  });
});
