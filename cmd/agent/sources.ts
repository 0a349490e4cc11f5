/*
 * The one place the agent names a concrete Source: a manifest directory when --state-dir is
 * set, else the API server (kubeconfig file or in-cluster).
 */
import type { KubeConfig } from '@kubernetes/client-node';
import {
  FileSource,
  KubernetesSource,
  loadKubeConfig,
  MultiClusterSource,
  type ApiServerOverride,
  RemoteClusters,
  type Source,
  type SourceLog,
} from '../../pkg/source/index.js';
import type { SourceStats } from '../../pkg/metrics/index.js';
import { StartupError } from '../startup-error.js';
import { ProbedKubernetesSource } from './api-server-source.js';

/** A Source that may also count its watch restarts and relists (KubernetesSource does). */
export type AgentSource = Source & { stats?(): SourceStats };

export interface SourceChoice {
  readonly stateDir?: string;
  readonly kubeconfig?: string;
  /** With the in-cluster config: the API server's address instead of KUBERNETES_SERVICE_HOST/PORT. */
  readonly apiServer?: ApiServerOverride;
  /** This cluster's name: a remote secret for it is ignored. */
  readonly clusterName: string;
  /** Where remote secrets are read (docs/multi-cluster.md); undefined: the local cluster only. */
  readonly remoteSecretNamespace?: string;
  /** The informers' reconnect backoff follows the agent's API retry settings. */
  readonly apiRetry: { readonly firstMs: number; readonly maxMs: number };
  /** How often discovery looks for optional kinds (the DestinationRule CRD). */
  readonly crdCheckMs?: number;
}

/** Spread so that a DaemonSet's agents do not all reconnect in the same instant. */
const RECONNECT_JITTER = 0.2;

export function createSource(options: SourceChoice, onListenerError: (err: unknown) => void, log?: SourceLog): AgentSource {
  if (options.stateDir) return new FileSource(options.stateDir, { onListenerError });
  let kc: KubeConfig;
  try {
    kc = loadKubeConfig(options.kubeconfig, options.apiServer);
  } catch (error) {
    // Reading the kubeconfig (or the service account) failed: no amount of retrying fixes that.
    const where = options.kubeconfig ? `kubeconfig ${options.kubeconfig}` : 'in-cluster config (no KUBECONFIG set)';
    throw new StartupError('source', `cannot load ${where}: ${(error as Error).message}`, { cause: error });
  }
  const backoff = { initialMs: options.apiRetry.firstMs, maxMs: options.apiRetry.maxMs, jitter: RECONNECT_JITTER };
  const local = new ProbedKubernetesSource(
    kc,
    new KubernetesSource({
      kubeConfig: kc,
      backoff,
      onListenerError,
      ...(options.crdCheckMs !== undefined ? { optionalKindCheckMs: options.crdCheckMs } : {}),
      ...(log ? { log } : {}),
    }),
  );
  if (options.remoteSecretNamespace === undefined) return local;
  const remotes = new RemoteClusters({
    kubeConfig: kc,
    namespace: options.remoteSecretNamespace,
    localCluster: options.clusterName,
    backoff,
    onListenerError,
    ...(log ? { log } : {}),
  });
  // Watch counters are the local cluster's: remote clusters report through status() instead.
  return Object.assign(new MultiClusterSource(local, remotes), { stats: () => local.stats() });
}
