/*
 * Remote clusters held in memory, for MultiClusterSource in the control-plane benchmark. It does
 * for in-memory sources what RemoteClusters does for the remote API servers' sources: objects
 * leave in one inCluster() list per cluster and changes name their cluster, so the model keys and tags them
 * exactly as it does in an agent. Secrets, staleness and problems are not simulated.
 */
import { inCluster } from '../../pkg/model/index.js';
import type { ChangeListener, RemoteClustersLike, RemoteClustersStatus } from '../../pkg/source/index.js';
import type { MemorySource } from './memory-source.js';

export class MemoryRemoteClusters implements RemoteClustersLike {
  private readonly listeners: ChangeListener[] = [];
  private cached: readonly unknown[] | undefined;

  constructor(private readonly clusters: ReadonlyMap<string, MemorySource>) {
    for (const [cluster, source] of clusters)
      source.onChange((changes) => {
        this.cached = undefined;
        const tagged = changes?.map((change) => ({ ...change, cluster }));
        for (const listener of this.listeners) listener(tagged);
      });
  }

  start(): Promise<void> {
    return Promise.resolve();
  }

  stop(): Promise<void> {
    return Promise.resolve();
  }

  onChange(listener: ChangeListener): void {
    this.listeners.push(listener);
  }

  objects(): readonly unknown[] {
    this.cached ??= [...this.clusters].map(([cluster, source]) => inCluster(cluster, source.objects()));
    return this.cached;
  }

  status(): RemoteClustersStatus {
    return {
      synced: true,
      clusters: [...this.clusters.keys()].map((cluster) => ({ cluster, secret: `bench-${cluster}`, synced: true })),
      problems: [],
    };
  }
}
