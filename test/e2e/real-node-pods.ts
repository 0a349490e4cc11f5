/*
 * Reaching real-node lab pods from the test without kubectl exec (the API server dials kubelets
 * by node name, which no resolver of the lab knows): their processes found in the node's cgroup2
 * subtree (lab/container-exec.ts), and a command run in a container's namespaces and cgroup.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { hostEnv } from '../../lab/index.js';

export { podProcesses, podProcessNamed } from '../../lab/index.js';

/**
 * The container's own curl, run as if by exec: its mount and network namespaces, and its cgroup2
 * directory (where the node's agent sees the connect), not the test's.
 */
export function curlInContainer(pid: number, url: string): string {
  const own = readFileSync(`/proc/${pid}/cgroup`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('0::'))!
    .slice(3);
  const procs = join(hostEnv().cgroup2, own, 'cgroup.procs');
  const script = 'echo $$ > "$1" && exec nsenter -t "$2" -m -n -- curl -sS --max-time 5 "$3"';
  return execFileSync('sh', ['-c', script, 'sh', procs, String(pid), url], { encoding: 'utf8' }).trim();
}

/** `argv` run as if by exec in the container of `pid`: its mount and network namespaces and its cgroup2 directory. */
export function runInContainer(pid: number, argv: readonly string[]): string {
  const own = readFileSync(`/proc/${pid}/cgroup`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('0::'))!
    .slice(3);
  const procs = join(hostEnv().cgroup2, own, 'cgroup.procs');
  const script = 'procs="$1" pid="$2"; shift 2; echo $$ > "$procs" && exec nsenter -t "$pid" -m -n -- "$@"';
  return execFileSync('sh', ['-c', script, 'sh', procs, String(pid), ...argv], { encoding: 'utf8' }).trim();
}
