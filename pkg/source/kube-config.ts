import { isIPv6 } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';

/**
 * Where to reach the API server instead of KUBERNETES_SERVICE_HOST/PORT, with the in-cluster
 * service-account credentials still (as Cilium's k8sServiceHost/k8sServicePort): those variables
 * name the `kubernetes` Service's ClusterIP, which without kube-proxy only nearby itself serves,
 * so an agent starting on such a node could never read the cluster it is to serve it from.
 */
export interface ApiServerOverride {
  readonly host: string;
  readonly port: number;
}

/** https://host:port, with an IPv6 host in brackets. */
export function apiServerOverrideUrl({ host, port }: ApiServerOverride): string {
  return `https://${isIPv6(host) ? `[${host}]` : host}:${port}`;
}

/**
 * A kubeconfig file when a path is given, else the pod's service account (in-cluster): its CA
 * and token, at the override's address when there is one.
 */
export function loadKubeConfig(kubeconfigPath?: string, apiServer?: ApiServerOverride): KubeConfig {
  const kc = new KubeConfig();
  if (kubeconfigPath) {
    kc.loadFromFile(kubeconfigPath);
    return kc;
  }
  kc.loadFromCluster();
  if (!apiServer) return kc;
  const server = apiServerOverrideUrl(apiServer);
  const overridden = new KubeConfig();
  overridden.loadFromOptions({
    clusters: kc.clusters.map((cluster) => ({ ...cluster, server })),
    users: kc.users,
    contexts: kc.contexts,
    currentContext: kc.currentContext,
  });
  return overridden;
}
