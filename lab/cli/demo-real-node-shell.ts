/*
 * The demo's client shell on the real-node lab: pods are the kubelets' (kubectl finds them), and
 * the script runs in the client container itself, its filesystem, netns and cgroup
 * (lab/container-exec.ts), since the lab's API server cannot reach the kubelets' exec endpoint.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { execInContainer, hostEnv, labPaths, LabError, podProcesses, readRecord } from '../index.js';
import type { PodShell } from './demo-curl.js';

interface PodItem {
  readonly metadata: { readonly name: string; readonly uid: string; readonly deletionTimestamp?: string };
  readonly spec: { readonly nodeName?: string };
  readonly status: { readonly phase?: string };
}

/** The sandbox's process, which every pod has besides its containers'. */
const SANDBOX_COMM = 'pause';

export function realNodeShell(labName: string, kubectl: string, kubeconfig: string): PodShell {
  const host = hostEnv();
  const paths = labPaths(labName, host.cgroup2, host.bpffs);
  const pods = (namespace: string, selector: string[]): PodItem[] => {
    const run = spawnSync(kubectl, ['get', 'pods', '-n', namespace, ...selector, '-o', 'json'], {
      env: { ...process.env, KUBECONFIG: kubeconfig },
      encoding: 'utf8',
    });
    if (run.status !== 0) throw new LabError('system', `kubectl get pods -n ${namespace}: ${run.stderr.trim() || `exit ${run.status}`}`);
    return (JSON.parse(run.stdout) as { items: PodItem[] }).items;
  };
  const running = (p: PodItem): boolean => p.status.phase === 'Running' && !p.metadata.deletionTimestamp;
  return {
    podName(selector, namespace) {
      const found = pods(namespace, ['-l', selector]).find(running);
      if (!found) return Promise.reject(new LabError('not-found', `no running pod in namespace ${namespace} matches ${selector}`));
      return Promise.resolve(found.metadata.name);
    },
    async run(pod, namespace, script, timeoutMs) {
      const item = pods(namespace, ['--field-selector', `metadata.name=${pod}`])[0];
      if (!item || !running(item) || !item.spec.nodeName)
        throw new LabError('conflict', `pod ${namespace}/${pod} is not running (${item?.status.phase ?? 'not found'})`);
      const node = readRecord(paths.record)?.nodes.find((n) => n.name === item.spec.nodeName);
      if (!node) throw new LabError('not-found', `node ${item.spec.nodeName} is not a node of lab ${labName}`);
      // The client container's process: the first one of the pod that is not its sandbox.
      const pid = podProcesses(node.cgroup, item.metadata.uid).find((p) => commOf(p) !== SANDBOX_COMM);
      if (pid === undefined) throw new LabError('not-found', `pod ${namespace}/${pod} has no container process on ${node.name}`);
      const result = await execInContainer(pid, host.cgroup2, ['sh', '-c', script], { timeoutMs });
      return { stdout: result.stdout, stderr: result.stderr };
    },
  };
}

function commOf(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return undefined; // ended while we looked
  }
}
