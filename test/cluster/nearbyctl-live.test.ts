// `nearbyctl plan` and `explain` against a real kube-apiserver, with the agent's kubeconfig (its
// ServiceAccount token and deploy/'s RBAC): the cluster is listed once, as the agent lists it, and
// planned the same as the same objects written as manifests. Covers a Service left to another
// proxy and one routed by topology hints. Needs the binaries of `make control-plane`; fails,
// never skips, when they are missing.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestControlPlane, type TestControlPlane } from './control-plane-fixture.js';
import { agentIdentity } from '../../lab/control-plane/index.js';
import type { PlanJson } from '../../cmd/ctl/plan-view.js';
import { runNearbyctl } from '../../cmd/ctl/run.js';
import { ifSetUp } from '../fixtures/if-set-up.js';

const NODES = ['w1:z1', 'w2:z1', 'w3:z2'].map((spec) => {
  const [name, zone] = spec.split(':');
  return `apiVersion: v1
kind: Node
metadata:
  name: ${name}
  labels: {topology.kubernetes.io/region: r, topology.kubernetes.io/zone: ${zone}}
`;
});

function service(name: string, ip: string, extra: { labels?: string; spec?: string } = {}): string {
  return `apiVersion: v1
kind: Service
metadata:
  name: ${name}
  namespace: sample
  labels: {${extra.labels ?? ''}}
spec:
  clusterIP: ${ip}
  ports: [{name: http, port: 5000, protocol: TCP}]
${extra.spec ?? ''}`;
}

/** A slice by hand (no selector, so no controller writes one), each pod hinted for its own zone. */
function slice(name: string, service: string): string {
  const endpoint = (ip: string, node: string, zone: string) =>
    `  - {addresses: ["${ip}"], conditions: {ready: true}, nodeName: ${node}, zone: ${zone}, hints: {forZones: [{name: ${zone}}]}}`;
  return `apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: ${name}
  namespace: sample
  labels: {kubernetes.io/service-name: ${service}}
addressType: IPv4
ports: [{name: http, port: 5000, protocol: TCP}]
endpoints:
${endpoint('10.244.1.10', 'w1', 'z1')}
${endpoint('10.244.2.10', 'w2', 'z1')}
${endpoint('10.244.3.10', 'w3', 'z2')}
`;
}

const NAMESPACE = 'apiVersion: v1\nkind: Namespace\nmetadata: {name: sample}\n';
const OBJECTS = [
  NAMESPACE,
  ...NODES,
  service('hinted', '10.96.0.100'),
  slice('hinted-1', 'hinted'),
  service('close', '10.96.0.101', { spec: '  trafficDistribution: PreferClose\n' }),
  slice('close-1', 'close'),
  service('theirs', '10.96.0.102', { labels: 'service.kubernetes.io/service-proxy-name: cilium' }),
  slice('theirs-1', 'theirs'),
].join('---\n');

let env: TestControlPlane;
let kubeconfig: string;
let stateDir: string;

async function ctl(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runNearbyctl(argv, { out: (t) => out.push(t), err: (t) => err.push(t) }, {});
  return { code, out: out.join('\n'), err: err.join('\n') };
}

beforeAll(async () => {
  env = await startTestControlPlane('nearbyctl-live', { waitForControllers: false });
  kubeconfig = await agentIdentity(env.cp);
  const applied = await env.cp.kubectl(['apply', '-f', '-'], OBJECTS);
  if (applied.code !== 0) throw new Error(`kubectl apply: ${applied.stderr}`);
  stateDir = mkdtempSync(join(tmpdir(), 'nearbyctl-live-'));
  writeFileSync(join(stateDir, 'objects.yaml'), OBJECTS);
}, 180_000);

afterAll(async () => {
  const dir = ifSetUp(stateDir);
  if (dir) rmSync(dir, { recursive: true, force: true });
  await ifSetUp(env)?.stop();
});

describe('nearbyctl against a live cluster', () => {
  it('plans from the API server as from the same objects in manifests', async () => {
    const live = await ctl('plan', '--node', 'w1', '--kubeconfig', kubeconfig, '--json');
    expect(live.err).toBe('');
    expect(live.code).toBe(0);
    const files = await ctl('plan', '--node', 'w1', '--state', stateDir, '--json');
    expect(files.code).toBe(0);
    // The API server adds default/kubernetes, which the manifests do not have.
    const sampleOnly = (text: string): PlanJson['services'] =>
      (JSON.parse(text) as PlanJson).services.filter((s) => s.service.startsWith('sample/'));
    const plan = { services: sampleOnly(live.out) };
    expect(plan.services).toEqual(sampleOnly(files.out));
    expect(plan.services.map((s) => `${s.service} ${s.mode}`)).toEqual(['sample/close FAILOVER', 'sample/hinted RANDOM']);
    const text = await ctl('plan', '--node', 'w1', '--kubeconfig', kubeconfig);
    expect(text.out).toContain('sample/theirs');
    expect(text.out).toContain(
      `left alone: labelled service.kubernetes.io/service-proxy-name="cilium", another proxy's (nearby's is "nearby")`,
    );
    expect(text.out).toContain('1 skipped');
  });

  it('explains which hint rule applied, and that there are no pins here to compare', async () => {
    const bpffs = mkdtempSync(join(tmpdir(), 'nearbyctl-live-bpffs-'));
    try {
      const { code, out, err } = await ctl('explain', 'sample/hinted', '--node', 'w3', '--kubeconfig', kubeconfig, '--bpffs', bpffs);
      expect(err).toBe('');
      expect(code).toBe(0);
      expect(out).toContain('zone hints');
      expect(out).toContain('some are for zone z2');
      expect(out).toContain('a connect from w3 uses tier 0, shared evenly by 1 endpoint(s): 10.244.3.10:5000');
      expect(out).toContain('maps not compared');
    } finally {
      rmSync(bpffs, { recursive: true, force: true });
    }
  });

  it('explains why a Service is left alone', async () => {
    const { code, out } = await ctl('explain', 'sample/theirs', '--node', 'w1', '--kubeconfig', kubeconfig);
    expect(code).toBe(0);
    expect(out).toContain('not intercepted by nearby: left alone: labelled service.kubernetes.io/service-proxy-name="cilium"');
  });
});
