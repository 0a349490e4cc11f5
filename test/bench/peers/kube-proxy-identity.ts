/*
 * kube-proxy's own identity against the lab's API server: a ServiceAccount bound to the
 * built-in ClusterRole system:node-proxier (what kubeadm grants kube-proxy), and a kubeconfig with
 * a token for it. Never admin, so a peer that needs more than a real kube-proxy gets fails loudly.
 */
import { type ControlPlane, writeKubeconfig } from '../../../lab/control-plane/index.js';

const NAMESPACE = 'kube-system';
const SERVICE_ACCOUNT = 'kube-proxy';

async function kubectl(cp: ControlPlane, args: readonly string[], input?: string): Promise<string> {
  const result = await cp.kubectl(args, input);
  if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')} exited ${result.code}: ${result.stderr.trim()}`);
  return result.stdout;
}

/** Writes the kubeconfig to `path`, with `server` as the address kube-proxy will dial. */
export async function kubeProxyIdentity(cp: ControlPlane, path: string, server: string = cp.server): Promise<string> {
  const objects = [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: SERVICE_ACCOUNT, namespace: NAMESPACE } },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'nearby-bench:kube-proxy' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:node-proxier' },
      subjects: [{ kind: 'ServiceAccount', name: SERVICE_ACCOUNT, namespace: NAMESPACE }],
    },
  ];
  await kubectl(cp, ['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }));
  const token = (await kubectl(cp, ['create', 'token', SERVICE_ACCOUNT, '-n', NAMESPACE, '--duration=24h'])).trim();
  return writeKubeconfig(path, {
    server,
    caFile: cp.caFile,
    userName: `system:serviceaccount:${NAMESPACE}:${SERVICE_ACCOUNT}`,
    user: { token },
  });
}
