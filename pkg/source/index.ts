/**
 * pkg/source: where the cluster's raw objects come from, behind one Source interface.
 * FileSource reads a directory of manifests; KubernetesSource lists and watches the API server.
 */
export type { ChangeListener, ObjectChange, Source, SourceStatus, WatchedKind } from './types.js';
export { FileSource, type FileProblem, type FileSourceOptions } from './file-source.js';
export {
  DEFAULT_OPTIONAL_KIND_CHECK_MS,
  KubernetesSource,
  type KindStatus,
  type KubernetesSourceOptions,
  type KubernetesSourceStats,
} from './kubernetes-source.js';
export type { SourceLog } from './optional-kind-watcher.js';
export { DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js';
export { KindSyncError, ListTimeoutError, ManifestError, SourceError } from './errors.js';
export { isWatchedKind, kindInfo, WATCHED_KINDS, type WatchedKindInfo } from '../model/index.js';
export { apiServerOverrideUrl, loadKubeConfig, type ApiServerOverride } from './kube-config.js';
export { withTimeout } from './with-timeout.js';
export { parseManifest } from './manifest-parse.js';
export {
  DEFAULT_REMOTE_SECRET_NAMESPACE,
  REMOTE_KINDS,
  RemoteClusters,
  type RemoteClusterStatus,
  type RemoteClustersLog,
  type RemoteClustersOptions,
  type RemoteClustersStatus,
  type RemoteSource,
} from './remote-clusters.js';
export {
  CLUSTER_ANNOTATION,
  MULTI_CLUSTER_LABEL,
  MULTI_CLUSTER_SELECTOR,
  readRemoteKubeconfig,
  readRemoteSecret,
  type RemoteClusterCredentials,
  type RemoteSecretProblem,
  type RemoteSecretReading,
} from './remote-secrets.js';
export { describeRemotes, MultiClusterSource, type RemoteClustersLike } from './multi-cluster-source.js';
