/*
 * The cluster `make e2e-upstream` runs against by default: the real-node lab of kind-zones.yaml
 * (3 zones of 2 workers, kube-proxy absent) with nearby installed as its DaemonSet from
 * deploy/helm/nearby, as a user would (docs/real-nodes.md, "Kubernetes' own tests"), and CoreDNS
 * from lab/addons (the Traffic Distribution clients call their Service by name). Brought down
 * after the run.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hostEnv, labPaths, PROJECT_ROOT } from '../../lab/index.js';
import { labHelmInstallArgs } from '../../lab/daemonset-helm-values.js';
import { resolveHelm } from '../../lab/helm-binary.js';

export const ZONES_CONFIG = join(PROJECT_ROOT, 'test/upstream-e2e/kind-zones.yaml');
const NEARBYCTL = join(PROJECT_ROOT, 'dist/cmd/nearbyctl.js');
const NAMESPACE = 'nearby-system';

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
  // Only what places the chart in this lab; resources and probes stay the chart's (lab/daemonset-helm-values.ts).
  step('helm install nearby', resolveHelm(), labHelmInstallArgs(labPaths(lab, hostEnv().cgroup2, hostEnv().bpffs), hostEnv()), env);
  step('CoreDNS applied', kubectl, ['apply', '-f', join(PROJECT_ROOT, 'lab/addons/coredns.yaml')], env);
  step('nearby DaemonSet Ready', kubectl, ['rollout', 'status', 'daemonset/nearby-agent', '-n', NAMESPACE, '--timeout=900s'], env);
  step('CoreDNS Ready', kubectl, ['rollout', 'status', 'deployment/coredns', '-n', 'kube-system', '--timeout=300s'], env);
  return kubeconfig;
}

export function bringDownLab(lab: string): void {
  step('lab down', 'node', [NEARBYCTL, 'lab', 'down', '--name', lab]);
}
