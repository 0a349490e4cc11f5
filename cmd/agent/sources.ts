/*
 * The one place the agent names a concrete Source: a manifest directory when --state-dir is
 * set, else the API server (kubeconfig file or in-cluster).
 */
import { FileSource, KubernetesSource, type Source } from '../../pkg/source/index.js';
import type { SourceStats } from '../../pkg/metrics/index.js';
import { StartupError } from '../startup-error.js';

/** A Source that may also count its watch restarts and relists (KubernetesSource does). */
export type AgentSource = Source & { stats?(): SourceStats };

export function createSource(options: { stateDir?: string; kubeconfig?: string }, onListenerError: (err: unknown) => void): AgentSource {
  if (options.stateDir) return new FileSource(options.stateDir, { onListenerError });
  try {
    return new KubernetesSource({ ...(options.kubeconfig ? { kubeconfigPath: options.kubeconfig } : {}), onListenerError });
  } catch (error) {
    // Reading the kubeconfig (or the service account) failed: no amount of retrying fixes that.
    const where = options.kubeconfig ? `kubeconfig ${options.kubeconfig}` : 'in-cluster config (no KUBECONFIG set)';
    throw new StartupError('source', `cannot load ${where}: ${(error as Error).message}`, { cause: error });
  }
}
