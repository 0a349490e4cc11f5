/*
 * What the agents of one cluster of a lab set read from the others, listed the way they read it,
 * so the lab's settlement plans each node with the remote endpoints its agent programmed: the
 * clusters named by the labelled remote secrets in istio-system (one data key per cluster), each
 * listed for the kinds agents read remotely, through that cluster's own admin kubeconfig in the
 * lab. A remote whose API server does not answer keeps its last lists, as the agents keep their
 * last known endpoints; a cluster no secret names any more is dropped, as the agents drop it.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { inCluster, WATCHED_KINDS, type ClusterObjects } from '../../pkg/model/index.js';
import { DEFAULT_REMOTE_SECRET_NAMESPACE, MULTI_CLUSTER_SELECTOR, REMOTE_KINDS } from '../../pkg/source/index.js';
import { adminKubeconfigPath, RUN_BASE } from '../layout.js';
import { ApiRest } from './rest.js';

type Item = Record<string, unknown>;

export class RemoteLists {
  private readonly rests = new Map<string, ApiRest>();
  private readonly last = new Map<string, ClusterObjects>();

  constructor(private readonly logger: Logger) {}

  /** The remote objects the local agents read now: one inCluster() list per cluster. */
  async list(local: ApiRest): Promise<unknown[]> {
    const path = `/api/v1/namespaces/${DEFAULT_REMOTE_SECRET_NAMESPACE}/secrets?labelSelector=${encodeURIComponent(MULTI_CLUSTER_SELECTOR)}`;
    let secrets: Item[] = [];
    try {
      secrets = (await local.call<{ items: Item[] }>('GET', path)).items;
    } catch {
      // No istio-system yet (no secret applied): no remote cluster.
    }
    const clusters = new Set(secrets.flatMap((s) => Object.keys((s['data'] as Record<string, string> | undefined) ?? {})));
    for (const name of this.last.keys()) if (!clusters.has(name)) this.last.delete(name);
    for (const name of clusters) {
      const rest = this.restOf(name);
      if (!rest) continue;
      try {
        const lists = await Promise.all(
          WATCHED_KINDS.filter((k) => REMOTE_KINDS.includes(k.kind)).map(async (k) =>
            (await rest.call<{ items: Item[] }>('GET', k.path)).items.map((o) => ({ ...o, kind: k.kind, apiVersion: k.apiVersion })),
          ),
        );
        this.last.set(name, inCluster(name, lists.flat()));
      } catch (error) {
        this.logger.debug({ cluster: name, err: error }, 'remote cluster not listed; its last lists stay');
      }
    }
    return [...this.last.values()];
  }

  private restOf(name: string): ApiRest | undefined {
    const cached = this.rests.get(name);
    if (cached) return cached;
    const file = adminKubeconfigPath(join(RUN_BASE, name));
    if (!existsSync(file)) return undefined;
    const kc = new KubeConfig();
    kc.loadFromFile(file);
    const rest = new ApiRest(kc);
    this.rests.set(name, rest);
    return rest;
  }
}
