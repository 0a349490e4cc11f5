/*
 * The remote clusters the agent reads (docs/multi-cluster.md): the labelled Secrets of one
 * namespace of the local cluster are watched, and each cluster they name gets its own watch of
 * Services, EndpointSlices and Nodes. Objects leave here in one inCluster() list per cluster, and
 * changes name their cluster, so the model keys and tags them by cluster.
 *
 * Faults stay with their cluster: a Secret or kubeconfig that cannot be used is reported by name
 * and skipped; a remote API server that stops answering keeps its last listed objects (its
 * informers hold their caches) and is reported stale; a Secret deleted drops its clusters at once.
 */
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { inCluster, keepRemoteReadFields, type RequiredKind } from '../model/index.js';
import { DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js';
import { ChangeListeners } from './change-listeners.js';
import { KindInformer } from './kind-informer.js';
import type { KindSpec } from './kind-specs.js';
import { KubernetesSource } from './kubernetes-source.js';
import { MULTI_CLUSTER_SELECTOR, readRemoteSecret, type RemoteClusterCredentials, type RemoteSecretProblem } from './remote-secrets.js';
import type { ChangeListener, ObjectChange, Source } from './types.js';
import type { SourceLog } from './optional-kind-watcher.js';

/** All a remote cluster is read for. */
export const REMOTE_KINDS: readonly RequiredKind[] = Object.freeze(['Service', 'EndpointSlice', 'Node']);

export const DEFAULT_REMOTE_SECRET_NAMESPACE = 'istio-system';

export interface RemoteClustersOptions {
  /** The local cluster, where the Secrets are. */
  readonly kubeConfig: KubeConfig;
  /** The one namespace whose Secrets are read (the agent may read Secrets nowhere else). */
  readonly namespace: string;
  /** This cluster's own name: a Secret for it is ignored, as Istio ignores one. */
  readonly localCluster: string;
  readonly backoff?: BackoffOptions;
  readonly listTimeoutMs?: number;
  readonly onListenerError?: (err: unknown) => void;
  /** How a remote cluster is read; tests may replace it. */
  readonly makeSource?: (credentials: RemoteClusterCredentials) => RemoteSource;
  readonly log?: RemoteClustersLog;
}

export type RemoteClustersLog = SourceLog;

export type RemoteSource = Source;

export interface RemoteClusterStatus {
  readonly cluster: string;
  readonly secret: string;
  readonly synced: boolean;
  /** Why its objects may be out of date (its API server unreachable, say); absent when current. */
  readonly stale?: string;
}

export interface RemoteClustersStatus {
  /** The Secret watch has listed once. */
  readonly synced: boolean;
  readonly clusters: readonly RemoteClusterStatus[];
  /** Secrets and clusters that could not be used, by name. */
  readonly problems: readonly RemoteSecretProblem[];
  /** Why the Secrets themselves cannot be read, when they cannot. */
  readonly secretsError?: string;
}

interface Running {
  readonly credentials: RemoteClusterCredentials;
  readonly source: RemoteSource;
}

const SILENT: RemoteClustersLog = { info: () => undefined, warn: () => undefined };

function secretSpec(kc: KubeConfig, namespace: string): KindSpec<'Secret'> {
  const core = kc.makeApiClient(CoreV1Api);
  return {
    kind: 'Secret',
    apiVersion: 'v1',
    watchPath: `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets`,
    labelSelector: MULTI_CLUSTER_SELECTOR,
    list: () => core.listNamespacedSecret({ namespace, labelSelector: MULTI_CLUSTER_SELECTOR }),
  };
}

export class RemoteClusters {
  private readonly secrets: KindInformer<'Secret'>;
  private readonly running = new Map<string, Running>();
  private readonly listeners: ChangeListeners;
  private readonly log: RemoteClustersLog;
  private readonly makeSource: (credentials: RemoteClusterCredentials) => RemoteSource;
  private problems: readonly RemoteSecretProblem[] = [];
  private cached: readonly unknown[] | undefined;
  private stopped = true;

  constructor(private readonly options: RemoteClustersOptions) {
    this.listeners = new ChangeListeners(options.onListenerError);
    this.log = options.log ?? SILENT;
    const backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.makeSource =
      options.makeSource ??
      ((credentials) =>
        new KubernetesSource({
          kubeConfig: credentials.kubeConfig,
          onlyKinds: REMOTE_KINDS,
          readFields: keepRemoteReadFields,
          backoff,
          ...(options.listTimeoutMs !== undefined ? { listTimeoutMs: options.listTimeoutMs } : {}),
          ...(options.onListenerError ? { onListenerError: options.onListenerError } : {}),
        }));
    this.secrets = new KindInformer(secretSpec(options.kubeConfig, options.namespace), options.kubeConfig, {
      backoff,
      watchTimeoutSeconds: () => 300 + Math.floor(Math.random() * 300),
      listTimeoutMs: options.listTimeoutMs ?? 60_000,
      minWatchLifetimeMs: 1_000,
      onChange: () => this.secretsChanged(),
    });
  }

  start(): Promise<void> {
    this.stopped = false;
    this.secrets.start();
    return Promise.resolve();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.secrets.stop();
    const running = [...this.running.values()];
    this.running.clear();
    await Promise.all(running.map((r) => r.source.stop()));
  }

  onChange(listener: ChangeListener): void {
    this.listeners.add(listener);
  }

  /** Every remote cluster's objects: one inCluster() list per cluster. */
  objects(): readonly unknown[] {
    this.cached ??= [...this.running.values()].map(({ credentials, source }) => inCluster(credentials.cluster, source.objects()));
    return this.cached;
  }

  status(): RemoteClustersStatus {
    const clusters = [...this.running.values()].map(({ credentials, source }): RemoteClusterStatus => {
      const status = source.status();
      const base = { cluster: credentials.cluster, secret: credentials.secret, synced: status.synced };
      return status.message === undefined ? base : { ...base, stale: status.message };
    });
    const error = this.secrets.lastError;
    return {
      synced: this.secrets.synced,
      clusters,
      problems: this.problems,
      ...(error ? { secretsError: error.message } : {}),
    };
  }

  /** Brings the running clusters in line with the Secrets now cached. */
  private secretsChanged(): void {
    if (this.stopped) return;
    const wanted = new Map<string, RemoteClusterCredentials>();
    const problems: RemoteSecretProblem[] = [];
    const secrets = [...this.secrets.objects()].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
    for (const secret of secrets) {
      const reading = readRemoteSecret(secret);
      problems.push(...reading.problems);
      for (const credentials of reading.clusters) {
        const taken = wanted.get(credentials.cluster);
        if (credentials.cluster === this.options.localCluster) {
          problems.push({ ...named(credentials), message: `names this cluster (--cluster-name ${this.options.localCluster}); ignored` });
        } else if (taken) {
          problems.push({
            ...named(credentials),
            message: `cluster ${credentials.cluster} is already read through Secret ${taken.secret}`,
          });
        } else wanted.set(credentials.cluster, credentials);
      }
    }
    for (const problem of problems)
      if (!this.problems.some((p) => sameProblem(p, problem))) this.log.warn({ ...problem }, 'remote secret rejected');
    this.problems = problems;

    let changed = false;
    for (const [cluster, running] of this.running) {
      const next = wanted.get(cluster);
      if (next?.kubeconfig === running.credentials.kubeconfig && next.secret === running.credentials.secret) continue;
      this.running.delete(cluster);
      changed = true;
      this.log.info({ cluster, secret: running.credentials.secret }, 'remote cluster removed');
      running.source.stop().catch((err: unknown) => this.log.warn({ cluster, err }, 'stopping a remote cluster failed'));
    }
    for (const [cluster, credentials] of wanted) {
      if (this.running.has(cluster)) continue;
      this.startCluster(credentials);
      changed = true;
    }
    if (changed) this.notify();
  }

  private startCluster(credentials: RemoteClusterCredentials): void {
    const { cluster } = credentials;
    const source = this.makeSource(credentials);
    const running: Running = { credentials, source };
    this.running.set(cluster, running);
    source.onChange((changes) => {
      // A change from a source already replaced or removed must not come back.
      if (this.running.get(cluster) !== running) return;
      this.notify(changes?.map((change) => tagChange(cluster, change)));
    });
    this.log.info(
      { cluster, secret: credentials.secret, server: credentials.kubeConfig.getCurrentCluster()?.server },
      'remote cluster added',
    );
    source.start().catch((err: unknown) => this.log.warn({ cluster, err }, 'starting a remote cluster failed'));
  }

  private notify(changes?: readonly ObjectChange[]): void {
    this.cached = undefined;
    // Without a change list the consumer rebuilds from objects(): how a cluster leaves at once.
    if (changes) for (const change of changes) this.listeners.notify(change);
    else this.listeners.notify();
  }
}

function tagChange(cluster: string, change: ObjectChange): ObjectChange {
  return { ...change, cluster };
}

function key(secret: unknown): string {
  const metadata = (secret as { metadata?: { name?: string } }).metadata;
  return metadata?.name ?? '';
}

function named(credentials: RemoteClusterCredentials): RemoteSecretProblem {
  return { secret: credentials.secret, cluster: credentials.cluster, message: '' };
}

function sameProblem(a: RemoteSecretProblem, b: RemoteSecretProblem): boolean {
  return a.secret === b.secret && a.cluster === b.cluster && a.message === b.message;
}
