/*
 * The cluster `make e2e-upstream` runs against by default: the real-node lab of kind-zones.yaml
 * (3 zones of 2 workers, kube-proxy absent) with nearby installed as its DaemonSet from
 * deploy/helm/nearby, as a user would (docs/real-nodes.md, "Kubernetes' own tests"), and CoreDNS
 * from lab/addons (the Traffic Distribution clients call their Service by name). Brought down
 * after the run.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { hostEnv, labPaths, PROJECT_ROOT } from '../../lab/index.js';
import { resolveHelm } from '../fixtures/helm-binary.js';

export const ZONES_CONFIG = join(PROJECT_ROOT, 'test/upstream-e2e/kind-zones.yaml');
const NEARBYCTL = join(PROJECT_ROOT, 'dist/cmd/nearbyctl.js');
const NAMESPACE = 'nearby-system';

/**
 * What the install sets: only what places the chart in this lab (its image, the API server's
 * address, the host's bpffs and cgroup2 mount, the node's own cgroup below it). Resources and
 * probes stay the chart's, as a user gets them; the startupProbe is what lets a slow start on
 * these 2 shared cores finish (docs/real-nodes.md, "Kubernetes' own tests").
 */
export function installValues(lab: string, apiHost: string, apiPort: string): string[] {
  const host = hostEnv();
  const cgroupRoot = labPaths(lab, host.cgroup2, host.bpffs).cgroupRoot;
  return [
    ...['--set', 'image.pullPolicy=Never'],
    ...['--set', `apiServer.host=${apiHost}`, '--set-string', `apiServer.port=${apiPort}`],
    ...['--set', `hostPaths.bpffs=${host.bpffs}`, '--set', `hostPaths.cgroup=${host.cgroup2}`],
    ...['--set-string', `hostPaths.cgroupSubpath=${relative(host.cgroup2, cgroupRoot)}/$(NODE_NAME)`],
  ];
}

function step(what: string, command: string, args: string[], env: NodeJS.ProcessEnv = process.env): string {
  const started = Date.now();
  const out = execFileSync(command, args, { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  console.error(`e2e-upstream: ${what} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return out;
}

/** Brings the lab up under `lab` and installs nearby and CoreDNS; returns its kubeconfig. */
export function bringUpLab(lab: string, kubectl: string, workDir: string): string {
  const config = join(workDir, 'kind-zones.yaml');
  writeFileSync(config, readFileSync(ZONES_CONFIG, 'utf8').replace(/^name: .*$/m, `name: ${lab}`));
  step('lab up (7 real nodes)', 'node', [
    NEARBYCTL,
    'lab',
    'up',
    config,
    '--control-plane',
    '--real-nodes',
    '--agents',
    'daemonset',
    '--timeout',
    '600s',
  ]);
  const kubeconfig = join(labPaths(lab, hostEnv().cgroup2, hostEnv().bpffs).stateDir, 'kubeconfig');
  const env = { ...process.env, KUBECONFIG: kubeconfig };
  const server = new URL(
    execFileSync(kubectl, ['config', 'view', '-o', 'jsonpath={.clusters[0].cluster.server}'], { env, encoding: 'utf8' }).trim(),
  );
  step(
    'helm install nearby',
    resolveHelm(),
    [
      'install',
      'nearby',
      join(PROJECT_ROOT, 'deploy/helm/nearby'),
      '--namespace',
      NAMESPACE,
      '--create-namespace',
      ...installValues(lab, server.hostname, server.port),
    ],
    env,
  );
  step('CoreDNS applied', kubectl, ['apply', '-f', join(PROJECT_ROOT, 'lab/addons/coredns.yaml')], env);
  step('nearby DaemonSet Ready', kubectl, ['rollout', 'status', 'daemonset/nearby-agent', '-n', NAMESPACE, '--timeout=900s'], env);
  step('CoreDNS Ready', kubectl, ['rollout', 'status', 'deployment/coredns', '-n', 'kube-system', '--timeout=300s'], env);
  return kubeconfig;
}

export function bringDownLab(lab: string): void {
  step('lab down', 'node', [NEARBYCTL, 'lab', 'down', '--name', lab]);
}
