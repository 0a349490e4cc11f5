/*
 * Starts a process already inside a cgroup and a network namespace: a tiny `sh` writes its own
 * PID into <cgroup>/cgroup.procs and execs `ip netns exec`, which enters the namespace, mounts
 * /etc/netns/<netns>/* over /etc (the pod's hosts and resolv.conf) and execs the program. The
 * PID stays the same throughout, so the program is in place before its first instruction.
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

export function spawnPlaced(
  placement: Placement,
  argv: readonly string[],
  options: { env: NodeJS.ProcessEnv; stdio: StdioOptions; cwd?: string },
): ChildProcess {
  const args = ['-c', PLACE_AND_EXEC, 'nearby-lab-place', join(placement.cgroup, 'cgroup.procs'), placement.ip, 'netns', 'exec', placement.netns, ...argv];
  return spawn(placement.sh, args, { env: options.env, stdio: options.stdio, cwd: options.cwd ?? '/' });
}
