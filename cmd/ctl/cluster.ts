/*
 * `nearbyctl plan` and `explain` without --state: the cluster as the agent sees it. The
 * agent's KubernetesSource lists every kind once (optional kinds too, when served), and is
 * stopped as soon as it has: nearbyctl never watches.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { KubernetesSource } from '../../pkg/source/index.js';
import { StartupError } from '../startup-error.js';

export interface ClusterFlags {
  readonly kubeconfig?: string | undefined;
  readonly context?: string | undefined;
}

/** A parse error's first line: YAML errors go on to quote the file, which is not one line. */
function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n', 1)[0]!.trim();
}

/** --kubeconfig, else $KUBECONFIG, else the pod's service account, else ~/.kube/config. */
export function loadClusterConfig(flags: ClusterFlags, env: NodeJS.ProcessEnv): KubeConfig {
  const kc = new KubeConfig();
  const path = flags.kubeconfig || env['KUBECONFIG'] || (env['KUBERNETES_SERVICE_HOST'] ? undefined : join(homedir(), '.kube', 'config'));
  if (path === undefined) {
    kc.loadFromCluster();
  } else {
    if (!existsSync(path)) throw new StartupError('kubeconfig', `kubeconfig ${path}: no such file (give --kubeconfig FILE or --state DIR)`);
    try {
      kc.loadFromFile(path);
    } catch (error) {
      throw new StartupError('kubeconfig', `kubeconfig ${path} does not parse: ${firstLine(error)}`);
    }
  }
  const where = path === undefined ? 'the in-cluster config' : `kubeconfig ${path}`;
  if (flags.context) {
    if (!kc.getContexts().some((c) => c.name === flags.context)) {
      throw new StartupError('kubeconfig', `${where} has no context ${JSON.stringify(flags.context)}`);
    }
    kc.setCurrentContext(flags.context);
  }
  if (!kc.getCurrentCluster()?.server) throw new StartupError('kubeconfig', `${where} names no cluster server for its current context`);
  return kc;
}

/** Every object the agent would read, listed once. */
export async function listCluster(kc: KubeConfig, timeoutMs: number): Promise<readonly unknown[]> {
  const source = new KubernetesSource({ kubeConfig: kc, listTimeoutMs: timeoutMs });
  await source.start();
  try {
    const deadline = Date.now() + timeoutMs;
    while (!source.settled()) {
      if (Date.now() > deadline) {
        const why = source.status().message ?? 'no answer';
        throw new StartupError('cluster', `${kc.getCurrentCluster()?.server}: not listed within ${timeoutMs / 1000} s: ${why}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return source.objects();
  } finally {
    await source.stop();
  }
}
