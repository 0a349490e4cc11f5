/*
 * Starts a process already inside a cgroup and a network namespace: a tiny `sh` writes its own
 * PID into <cgroup>/cgroup.procs and execs what enters the namespace: for pods `ip netns exec`,
 * which also mounts /etc/netns/<netns>/* over /etc (the pod's hosts and resolv.conf), for the
 * kernel lab's helpers nsenter, which leaves /sys alone. The PID stays the same throughout, so
 * the program is in place before its first instruction.
 */
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { join } from 'node:path';

/** $1 is the cgroup.procs file; the rest of argv is exec'd. No text is ever parsed by sh. */
const PLACE_AND_EXEC = 'echo $$ > "$1" && shift && exec "$@"';

export interface Placement {
  readonly sh: string;
  readonly ip: string;
  readonly cgroup: string;
  readonly netns: string;
}

/** `sh` argv that moves itself into the cgroup, then execs `argv` (which enters the netns). */
export function placedShellArgs(cgroup: string, argv: readonly string[]): string[] {
  return ['-c', PLACE_AND_EXEC, 'nearby-lab-place', join(cgroup, 'cgroup.procs'), ...argv];
}

export function spawnPlaced(
  placement: Placement,
  argv: readonly string[],
  options: { env: NodeJS.ProcessEnv; stdio: StdioOptions; cwd?: string },
): ChildProcess {
  const args = placedShellArgs(placement.cgroup, [placement.ip, 'netns', 'exec', placement.netns, ...argv]);
  return spawn(placement.sh, args, { env: options.env, stdio: options.stdio, cwd: options.cwd ?? '/' });
}
