/*
 * `nearbyctl wait-cleanup NAMESPACE/NAME`: the chart's pre-delete Job. The cleanup DaemonSet's
 * pods become Ready only after their init container (`nearby-agent --cleanup`) exited 0, so a
 * DaemonSet whose every scheduled pod is Ready is a confirmation from every node. Helm then
 * deletes the DaemonSet (its hook-succeeded policy); a node that never confirms fails the Job,
 * and with it `helm uninstall`, rather than leaving that node's links attached unnoticed.
 */
import { AppsV1Api, type KubeConfig, type V1DaemonSet } from '@kubernetes/client-node';
import { StartupError } from '../startup-error.js';

export interface CleanupProgress {
  readonly done: boolean;
  readonly ready: number;
  readonly desired: number;
}

/** Done when the controller has seen this generation and every node it schedules on is Ready. */
export function cleanupProgress(ds: Pick<V1DaemonSet, 'metadata' | 'status'>): CleanupProgress {
  const s = ds.status;
  const desired = s?.desiredNumberScheduled ?? 0;
  const ready = s?.numberReady ?? 0;
  const observed = s?.observedGeneration !== undefined && s.observedGeneration >= (ds.metadata?.generation ?? 1);
  const done = observed && ready === desired && (s.updatedNumberScheduled ?? 0) === desired && (s.numberUnavailable ?? 0) === 0;
  return { done, ready, desired };
}

export async function waitForCleanup(kc: KubeConfig, target: string, timeoutMs: number, out: (line: string) => void): Promise<boolean> {
  const [namespace, name] = target.split('/');
  if (!namespace || !name) throw new StartupError('usage', `wait-cleanup: expected NAMESPACE/NAME, got ${JSON.stringify(target)}`);
  const apps = kc.makeApiClient(AppsV1Api);
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    let line: string;
    try {
      const progress = cleanupProgress(await apps.readNamespacedDaemonSet({ name, namespace }));
      if (progress.done) {
        out(JSON.stringify({ msg: 'cleanup confirmed on every node', daemonSet: target, nodes: progress.desired }));
        return true;
      }
      line = JSON.stringify({ msg: 'waiting for cleanup', daemonSet: target, ready: progress.ready, desired: progress.desired });
    } catch (error) {
      line = JSON.stringify({ msg: 'cannot read the cleanup DaemonSet yet', daemonSet: target, err: (error as Error).message });
    }
    if (line !== last) out(line);
    last = line;
    if (Date.now() > deadline) {
      out(JSON.stringify({ msg: 'cleanup not confirmed in time', daemonSet: target, timeoutSeconds: timeoutMs / 1000 }));
      return false;
    }
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
}
