/*
 * A command in a real-node lab pod's container without `kubectl exec` (the lab's API server does
 * not reach the kubelets' exec endpoint): the container's processes are found in its node's
 * cgroup2 subtree, and the command joins that container's mount and network namespaces and its
 * cgroup2 directory, the one the node's agent attached nearby above, as an exec'd process would.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LabError } from './errors.js';
import { execResultOf, type ExecResult } from './exec-result.js';

/** PIDs in the cgroup2 directories of pod `uid` (kubepods/<qos>/pod<uid>/...) below the node cgroup. */
export function podProcesses(nodeCgroup: string, uid: string): number[] {
  const found: number[] = [];
  const walk = (dir: string, inPod: boolean): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      const child = join(dir, entry.name);
      const pod = inPod || entry.name === `pod${uid}`;
      if (pod && existsSync(join(child, 'cgroup.procs')))
        found.push(...readFileSync(join(child, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number));
      walk(child, pod);
    }
  };
  walk(nodeCgroup, false);
  return found;
}

/** The process of pod `uid` whose command is `comm` (the container's own, not the sandbox's pause). */
export function podProcessNamed(nodeCgroup: string, uid: string, comm: string): number | undefined {
  return podProcesses(nodeCgroup, uid).find((pid) => {
    try {
      return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === comm;
    } catch {
      return false; // ended while we looked
    }
  });
}

/** The cgroup2 directory of `pid`, below the cgroup2 mount `cgroup2`. */
function cgroupOf(pid: number, cgroup2: string): string {
  const own = readFileSync(`/proc/${pid}/cgroup`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('0::'));
  if (!own) throw new LabError('system', `process ${pid} is in no cgroup2 cgroup`);
  return join(cgroup2, own.slice(3));
}

/** Runs `argv` as if exec'd into the container of `pid`; output and exit code as `lab exec` gives them. */
export function execInContainer(
  pid: number,
  cgroup2: string,
  argv: readonly string[],
  options: { timeoutMs?: number } = {},
): Promise<ExecResult> {
  const procs = join(cgroupOf(pid, cgroup2), 'cgroup.procs');
  // The shell moves itself into the container's cgroup first, so the command and all it starts are there.
  const script = 'echo $$ > "$1" && t="$2" && shift 2 && exec nsenter -t "$t" -m -n -- "$@"';
  const child = spawn('sh', ['-c', script, 'sh', procs, String(pid), ...argv], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' },
  });
  return execResultOf(child, options.timeoutMs);
}
