/*
 * `helm install` of deploy/helm/nearby on the real-node lab (docs/real-nodes.md, step 5): the
 * values that place the chart on this machine and nothing more. The image is the one built
 * locally (never pulled), the API server is the lab's own address (no kube-proxy serves
 * 10.96.0.1), and the bpffs and cgroup2 mount are the host's, with each node's own cgroup2
 * subtree below it (Kubernetes expands $(NODE_NAME) from the downward API). Resources, probes
 * and capabilities stay the chart's, as a user gets them.
 */
import { join, relative } from 'node:path';
import { AGENT_IDENTITY } from './control-plane/index.js';
import { labNodeValues } from './daemonset-kustomization.js';
import type { LabPaths } from './layout.js';
import { PROJECT_ROOT } from './programs.js';

export const NEARBY_CHART = join(PROJECT_ROOT, 'deploy/helm/nearby');
/** The release name the docs install nearby under (its namespace is the agents' own). */
export const NEARBY_RELEASE = 'nearby';

/** `--set` arguments for this lab; `host` is where bpffs and cgroup2 are mounted here. */
export function labHelmValues(paths: Pick<LabPaths, 'stateDir' | 'cgroupRoot'>, host: { bpffs: string; cgroup2: string }): string[] {
  const api = labNodeValues(paths);
  return [
    ...['--set', 'image.pullPolicy=Never'],
    ...['--set', `apiServer.host=${api.apiServerHost}`, '--set-string', `apiServer.port=${api.apiServerPort}`],
    ...['--set', `hostPaths.bpffs=${host.bpffs}`, '--set', `hostPaths.cgroup=${host.cgroup2}`],
    ...['--set-string', `hostPaths.cgroupSubpath=${relative(host.cgroup2, paths.cgroupRoot)}/$(NODE_NAME)`],
  ];
}

/** The whole `helm install` argv (after the helm binary) for this lab. */
export function labHelmInstallArgs(paths: Pick<LabPaths, 'stateDir' | 'cgroupRoot'>, host: { bpffs: string; cgroup2: string }): string[] {
  return [
    'install',
    NEARBY_RELEASE,
    NEARBY_CHART,
    '--namespace',
    AGENT_IDENTITY.namespace,
    '--create-namespace',
    ...labHelmValues(paths, host),
  ];
}
