// What users apply, validated by a real API server of the pinned release: the kustomize base
// (`kubectl apply -k deploy/`), the Helm chart's output (`helm template | kubectl apply -f -`),
// the DestinationRule CRD and the samples all pass a server-side dry run with strict field
// validation, which runs the objects through the API server's schema, defaulting and admission
// (the priority class must exist, the namespace must exist) without storing anything. The ServiceMonitor needs
// prometheus-operator's CRD, which a plain cluster lacks: that is why it is kept out of the base,
// and the dry run shows it. Needs `make control-plane` and `make helm`; fails, never skips,
// without them.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestControlPlane, type TestControlPlane } from './control-plane-fixture.js';
import type { ControlPlane, KubectlResult } from '../../lab/control-plane/index.js';
import { DEPLOY, helmYaml, kustomizeYaml, NAMESPACE, parseObjects } from '../fixtures/deploy-render.js';
import { resolveHelm } from '../../lab/helm-binary.js';
import { ifSetUp } from '../fixtures/if-set-up.js';

const SAMPLES = join(DEPLOY, 'samples');

let env: TestControlPlane;
let cp: ControlPlane;

beforeAll(async () => {
  // Both throw naming the make target that provides them, failing every test in this file.
  resolveHelm();
  // Only the API is needed: no controller has to run for a dry run.
  env = await startTestControlPlane('deploy-dry-run', { waitForControllers: false });
  cp = env.cp;
}, 180_000);

afterAll(async () => {
  await ifSetUp(env)?.stop();
}, 60_000);

/** kubectl as admin, timed; the result is returned whatever the exit code. */
async function timed(what: string, args: string[], input?: string): Promise<KubectlResult> {
  const started = performance.now();
  const result = await cp.kubectl(args, input);
  console.info(`${what}: exit ${result.code} in ${Math.round(performance.now() - started)} ms`);
  return result;
}

/** Exit 0, and no warning but the ones listed: nearby's own manifests draw none. */
function expectOk(result: KubectlResult, what: string, allowedWarnings: readonly RegExp[] = []): string[] {
  expect(result.code, `${what}: ${result.stderr}`).toBe(0);
  const unexpected = result.stderr.split('\n').filter((line) => line.trim() !== '' && !allowedWarnings.some((w) => w.test(line)));
  expect(unexpected, what).toEqual([]);
  return result.stdout.trim().split('\n');
}

/** The `<resource>/<name>` kubectl names an object by, e.g. daemonset.apps/nearby-agent. */
function kubectlName(o: { apiVersion: string; kind: string; metadata: { name: string } }): string {
  const group = o.apiVersion.includes('/') ? `.${o.apiVersion.split('/')[0]}` : '';
  return `${o.kind.toLowerCase()}${group}/${o.metadata.name}`;
}

/** Every rendered object reported once, as validated by the server and not stored. */
function expectEveryObjectDryRun(lines: readonly string[], yaml: string): void {
  const objects = parseObjects(yaml);
  expect(lines).toHaveLength(objects.length);
  for (const o of objects) {
    expect(lines).toContainEqual(
      expect.stringMatching(new RegExp(`^${kubectlName(o).replaceAll('.', '\\.')} (created|configured|unchanged) \\(server dry run\\)$`)),
    );
  }
}

describe('server-side dry run against the pinned release', () => {
  it('accepts the kustomize base: `kubectl apply -k deploy/`', async () => {
    // Namespaced objects are admitted only into a namespace that exists, and a dry run creates
    // none; the namespace is therefore applied for real first, as the first step of a real apply
    // would have done.
    expectOk(await timed('apply namespace.yaml', ['apply', '-f', join(DEPLOY, 'namespace.yaml')]), 'namespace');
    const lines = expectOk(
      await timed('apply --dry-run=server -k deploy/', ['apply', '--dry-run=server', '--validate=strict', '-k', DEPLOY]),
      'apply -k deploy/',
    );
    expectEveryObjectDryRun(lines, await kustomizeYaml());
    expect(lines).toContain('daemonset.apps/nearby-agent created (server dry run)');
    expect(lines).toContain('service/nearby-agent-metrics created (server dry run)');
  });

  it('accepts the Helm chart: `helm template | kubectl apply -f -`', async () => {
    const yaml = await helmYaml();
    const lines = expectOk(
      await timed('helm template | apply --dry-run=server', ['apply', '--dry-run=server', '--validate=strict', '-f', '-'], yaml),
      'helm template',
    );
    expectEveryObjectDryRun(lines, yaml);
    expect(lines).toContain('daemonset.apps/nearby-agent created (server dry run)');
  });

  it('accepts the Helm chart with its tunable values set', async () => {
    const yaml = await helmYaml({
      preferClose: 'zone',
      'mapSizes.services': '1000',
      'metrics.port': '9791',
      'nodeSelector.kubernetes\\.io/os': 'linux',
    });
    const lines = expectOk(
      await timed('helm template (values) | apply --dry-run=server', ['apply', '--dry-run=server', '--validate=strict', '-f', '-'], yaml),
      'helm template with values',
    );
    expectEveryObjectDryRun(lines, yaml);
  });

  it('refuses the ServiceMonitor on a cluster without prometheus-operator, which is why the base leaves it out', async () => {
    const fromKustomize = await timed('apply --dry-run=server -k deploy/prometheus-operator', [
      'apply',
      '--dry-run=server',
      '-k',
      join(DEPLOY, 'prometheus-operator'),
    ]);
    expect(fromKustomize.code).not.toBe(0);
    expect(fromKustomize.stderr).toMatch(/no matches for kind "ServiceMonitor" in version "monitoring\.coreos\.com\/v1"/);
    const fromHelm = await timed(
      'helm template (serviceMonitor) | apply --dry-run=server',
      ['apply', '--dry-run=server', '-f', '-'],
      await helmYaml({ 'metrics.serviceMonitor.enabled': 'true' }),
    );
    expect(fromHelm.code).not.toBe(0);
    expect(fromHelm.stderr).toMatch(/no matches for kind "ServiceMonitor" in version "monitoring\.coreos\.com\/v1"/);
  });

  it("accepts the samples in namespace sample (kind-cluster.yaml is kind's config, not an API object)", async () => {
    const samples = readdirSync(SAMPLES).filter((file) => file.endsWith('.yaml') && file !== 'kind-cluster.yaml');
    expect(samples.length).toBeGreaterThan(0);
    expectOk(await timed('create namespace sample', ['create', 'namespace', 'sample']), 'namespace sample');
    const lines = expectOk(
      await timed('apply --dry-run=server samples', [
        'apply',
        '--dry-run=server',
        '--validate=strict',
        '-n',
        'sample',
        ...samples.flatMap((file) => ['-f', join(SAMPLES, file)]),
      ]),
      'samples',
      // The seed's own choices, kept as they are: Deployment names with dots, and the PreferClose
      // spelling that 1.36 deprecates in favour of PreferSameZone (nearby reads both).
      [
        /^Warning: metadata\.name: this is used in Pod names and hostnames/,
        /^Warning: spec\.trafficDistribution: "PreferClose" is deprecated/,
      ],
    );
    expect(lines).toHaveLength(samples.length);
    for (const line of lines) expect(line).toMatch(/^(deployment\.apps|service)\/\S+ created \(server dry run\)$/);
  });

  it('accepts the DestinationRule CRD of deploy/crds (structural, or the API server refuses it)', async () => {
    const file = join(DEPLOY, 'crds/destinationrule.yaml');
    const lines = expectOk(
      await timed('apply --dry-run=server crds/destinationrule.yaml', ['apply', '--dry-run=server', '--validate=strict', '-f', file]),
      'DestinationRule CRD',
    );
    expect(lines).toEqual(['customresourcedefinition.apiextensions.k8s.io/destinationrules.networking.istio.io created (server dry run)']);
  });

  it('stored nothing but the two namespaces it created for real', async () => {
    const listed = expectOk(
      await timed('get', [
        'get',
        'daemonsets,services,serviceaccounts,clusterroles,clusterrolebindings,deployments,customresourcedefinitions',
        '-A',
        '-o',
        'name',
      ]),
      'get',
    );
    expect(listed.filter((name) => /nearby|helloworld|sleep|destinationrules/.test(name))).toEqual([]);
    const namespaces = expectOk(await timed('get namespaces', ['get', 'namespaces', '-o', 'name']), 'namespaces');
    expect(namespaces).toEqual(expect.arrayContaining([`namespace/${NAMESPACE}`, 'namespace/sample']));
  });
});

/**
 * A DaemonSet's dry run does not admit its pods: the Priority and PodSecurity admission plugins
 * judge Pods only. So the pod template goes through as the Pod the DaemonSet controller would
 * create, which needs its ServiceAccount to exist (applied for real here, after the test above).
 */
describe("a Pod of the DaemonSet's template, as its controller would create it", () => {
  const agentPod = async (namespace: string): Promise<string> => {
    const ds = parseObjects(await kustomizeYaml()).find((o) => o.kind === 'DaemonSet')! as unknown as {
      spec: { template: { metadata: { labels: Record<string, string> }; spec: unknown } };
    };
    return JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'nearby-agent-probe', namespace, labels: ds.spec.template.metadata.labels },
      spec: ds.spec.template.spec,
    });
  };

  beforeAll(async () => {
    expectOk(await timed('apply rbac.yaml', ['apply', '-f', join(DEPLOY, 'rbac.yaml')]), 'rbac');
  });

  it('is admitted in nearby-system: the priority class exists and the namespace allows its privileges', async () => {
    const result = await timed(
      'Pod dry run in nearby-system',
      ['apply', '--dry-run=server', '--validate=strict', '-f', '-'],
      await agentPod(NAMESPACE),
    );
    expect(expectOk(result, 'agent Pod')).toEqual(['pod/nearby-agent-probe created (server dry run)']);
    const admitted = JSON.parse(
      (await timed('Pod dry run -o json', ['create', '--dry-run=server', '-o', 'json', '-f', '-'], await agentPod(NAMESPACE))).stdout,
    ) as { spec: { priority?: number; priorityClassName?: string } };
    // Resolved by the Priority admission plugin: system-node-critical is 2000001000.
    expect(admitted.spec).toMatchObject({ priorityClassName: 'system-node-critical', priority: 2_000_001_000 });
  });

  it("would be refused where the baseline Pod Security level is enforced, which is why nearby-system's namespace opts out", async () => {
    expectOk(await timed('create namespace psa-baseline', ['create', 'namespace', 'psa-baseline']), 'namespace');
    expectOk(
      await timed('label psa-baseline', ['label', 'namespace', 'psa-baseline', 'pod-security.kubernetes.io/enforce=baseline']),
      'label',
    );
    expectOk(await timed('create sa', ['create', 'serviceaccount', 'nearby-agent', '-n', 'psa-baseline']), 'serviceaccount');
    const result = await timed('Pod dry run in psa-baseline', ['apply', '--dry-run=server', '-f', '-'], await agentPod('psa-baseline'));
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/violates PodSecurity "baseline:latest"/);
    expect(result.stderr).toMatch(
      /non-default capabilities \(container "agent" must not include "BPF", "NET_ADMIN" in securityContext\.capabilities\.add\)/,
    );
    expect(result.stderr).toMatch(/hostPath volumes \(volumes "bpffs", "cgroup"\)/);
  });
});
