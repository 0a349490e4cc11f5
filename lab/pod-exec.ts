/*
 * `lab exec`: a command in a pod's netns and cgroup, with the pod's environment and hosts file,
 * as `kubectl exec` runs one in a container. Output and exit code pass through.
 */
import type { StdioOptions } from 'node:child_process';
import { execResultOf, type ExecResult } from './exec-result.js';
import type { HostEnv } from './host.js';
import { spawnPlaced } from './place.js';
import type { ExecTarget } from './status.js';

export interface ExecOptions {
  /** 'inherit' for a CLI; 'pipe' (the default) captures stdout and stderr. */
  readonly stdio?: 'inherit' | 'pipe';
  readonly input?: string;
  readonly timeoutMs?: number;
}

export function execInPod(host: HostEnv, target: ExecTarget, argv: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
  const inherit = options.stdio === 'inherit';
  const stdio: StdioOptions = inherit ? 'inherit' : [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'];
  const env: NodeJS.ProcessEnv = { ...target.env, ...(process.env['TERM'] ? { TERM: process.env['TERM'] } : {}) };
  const child = spawnPlaced({ sh: host.sh, ip: host.ip, cgroup: target.cgroup, netns: target.netns }, argv, { env, stdio });
  if (options.input !== undefined) child.stdin?.end(options.input);
  return execResultOf(child, options.timeoutMs);
}
