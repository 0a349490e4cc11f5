import { KubeConfig } from '@kubernetes/client-node';

/** A kubeconfig file when a path is given, else the pod's service account (in-cluster). */
export function loadKubeConfig(kubeconfigPath?: string): KubeConfig {
  const kc = new KubeConfig();
  if (kubeconfigPath) kc.loadFromFile(kubeconfigPath);
  else kc.loadFromCluster();
  return kc;
}
