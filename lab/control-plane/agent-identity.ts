/*
 * The identity the nearby agent runs with against the lab's control plane: the ServiceAccount and
 * read-only RBAC of deploy/ (the same manifests a real install applies), and a kubeconfig holding
 * a TokenRequest token for that ServiceAccount. The agent must use this, never the admin
 * kubeconfig, so a test catches an agent that needs more than deploy/rbac.yaml grants.
 */
import { join } from 'node:path';
import { PROJECT_ROOT } from '../programs.js';
import { sleep } from '../processes.js';
import type { ControlPlane } from './control-plane.js';
import { ControlPlaneError } from './errors.js';
import { runKubectl } from './kubectl.js';
import { writeKubeconfig } from './kubeconfig.js';

export interface AgentIdentityOptions {
  /** Must be the namespace and ServiceAccount deploy/rbac.yaml declares. */
  readonly namespace: string;
  readonly serviceAccount: string;
  /** Where to write the kubeconfig; default <control plane dir>/<serviceAccount>.kubeconfig. */
  readonly kubeconfigPath?: string;
  /** One cluster of several: the agent also reads remote secrets, with the Role of deploy/multi-cluster/. */
  readonly multiCluster?: boolean;
}

export const AGENT_IDENTITY: AgentIdentityOptions = { namespace: 'nearby-system', serviceAccount: 'nearby-agent' };

/**
 * Only the namespace and the RBAC, by name: deploy/'s kustomization will also hold the agent's
 * DaemonSet, which a lab without kubelets must not get.
 */
const RBAC_MANIFESTS = ['deploy/namespace.yaml', 'deploy/rbac.yaml'].map((file) => join(PROJECT_ROOT, file));
/** The Role and RoleBinding by which the agent reads remote secrets in istio-system (not the kustomization around them). */
const MULTI_CLUSTER_RBAC = join(PROJECT_ROOT, 'deploy/multi-cluster/remote-secrets-rbac.yaml');

/** A token outlives any lab or test run; TokenRequest caps nothing shorter than this by default. */
const TOKEN_DURATION = '24h';
const RBAC_SETTLE_TIMEOUT_MS = 15_000;

async function kubectlOrThrow(cp: ControlPlane, args: readonly string[], what: string): Promise<string> {
  const result = await cp.kubectl(args);
  if (result.code !== 0)
    throw new ControlPlaneError(
      'system',
      'agent-identity',
      `${what}: kubectl ${args.join(' ')} exited ${result.code}: ${result.stderr.trim()}`,
    );
  return result.stdout;
}

/**
 * Applies the agent's RBAC, mints its token and writes its kubeconfig; resolves with the
 * kubeconfig's path once a request with it is allowed (RBAC reaches the authorizer's cache a
 * moment after the apply).
 */
export async function agentIdentity(cp: ControlPlane, options: AgentIdentityOptions = AGENT_IDENTITY): Promise<string> {
  const manifests = [...RBAC_MANIFESTS, ...(options.multiCluster ? [MULTI_CLUSTER_RBAC] : [])];
  await kubectlOrThrow(cp, ['apply', ...manifests.flatMap((file) => ['-f', file])], 'applying the agent RBAC');
  const token = (
    await kubectlOrThrow(
      cp,
      ['create', 'token', options.serviceAccount, '-n', options.namespace, `--duration=${TOKEN_DURATION}`],
      `requesting a token for ${options.namespace}/${options.serviceAccount} (is it the ServiceAccount deploy/rbac.yaml declares?)`,
    )
  ).trim();
  const path = writeKubeconfig(options.kubeconfigPath ?? join(cp.dir, `${options.serviceAccount}.kubeconfig`), {
    server: cp.server,
    caFile: cp.caFile,
    userName: `system:serviceaccount:${options.namespace}:${options.serviceAccount}`,
    user: { token },
  });

  const target = { binary: cp.binaries.kubectl, kubeconfig: path, cacheDir: join(cp.dir, 'kubectl-cache') };
  const deadline = Date.now() + RBAC_SETTLE_TIMEOUT_MS;
  for (;;) {
    const probe = await runKubectl(target, ['get', '--raw', '/api/v1/nodes?limit=1']);
    if (probe.code === 0) return path;
    if (Date.now() >= deadline) {
      throw new ControlPlaneError(
        'timeout',
        'agent-identity',
        `the agent's kubeconfig ${path} still cannot list nodes after ${RBAC_SETTLE_TIMEOUT_MS} ms: ${probe.stderr.trim()}`,
      );
    }
    await sleep(200);
  }
}
