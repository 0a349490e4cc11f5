/*
 * The local cluster's source joined with the remote clusters' (docs/multi-cluster.md). Local
 * objects pass through untouched; remote ones arrive as one inCluster() list per cluster. Sync and readiness
 * are the local cluster's: a remote cluster that is unreachable or refused shows in `degraded`,
 * naming it, while its last known endpoints stay in use.
 */
import type { RemoteClusters, RemoteClustersStatus } from './remote-clusters.js';
import type { ChangeListener, Source, SourceStatus } from './types.js';

/** What the join reads of the remote clusters: RemoteClusters, or an in-memory stand-in (the control-plane benchmark). */
export type RemoteClustersLike = Pick<RemoteClusters, 'start' | 'stop' | 'objects' | 'onChange' | 'status'>;

export class MultiClusterSource implements Source {
  private cached: { local: readonly unknown[]; remote: readonly unknown[]; all: readonly unknown[] } | undefined;

  constructor(
    private readonly local: Source,
    readonly remotes: RemoteClustersLike,
  ) {}

  async start(): Promise<void> {
    await this.local.start();
    await this.remotes.start();
  }

  async stop(): Promise<void> {
    await Promise.all([this.local.stop(), this.remotes.stop()]);
  }

  objects(): readonly unknown[] {
    const local = this.local.objects();
    const remote = this.remotes.objects();
    // Both sides cache their lists until they change, so identity tells whether to join again.
    if (this.cached?.local !== local || this.cached.remote !== remote) this.cached = { local, remote, all: [...local, ...remote] };
    return this.cached.all;
  }

  onChange(listener: ChangeListener): void {
    this.local.onChange(listener);
    this.remotes.onChange(listener);
  }

  status(): SourceStatus {
    const status = this.local.status();
    const degraded = describeRemotes(this.remotes.status());
    return degraded === undefined ? status : { ...status, degraded };
  }
}

/** One line naming every remote cluster that is stale or refused, or undefined when all are current. */
export function describeRemotes(status: RemoteClustersStatus): string | undefined {
  const parts: string[] = [];
  if (status.secretsError) parts.push(`remote secrets unreadable: ${status.secretsError}`);
  for (const cluster of status.clusters) {
    if (cluster.stale !== undefined) parts.push(`remote cluster ${cluster.cluster} stale (last known endpoints kept): ${cluster.stale}`);
    else if (!cluster.synced) parts.push(`remote cluster ${cluster.cluster} not synced yet`);
  }
  for (const problem of status.problems) {
    const what =
      problem.cluster === undefined ? `remote secret ${problem.secret}` : `remote secret ${problem.secret} cluster ${problem.cluster}`;
    parts.push(`${what} rejected: ${problem.message}`);
  }
  return parts.length > 0 ? parts.join('; ') : undefined;
}
