/*
 * `lab exec`: a command in a pod's netns and cgroup, with the pod's environment and hosts file,
 * as `kubectl exec` runs one in a container. Output and exit code pass through.
 */
import type { StdioOptions } from 'node:child_process';
import type { HostEnv } from './host.js';
import { spawnPlaced } from './place.js';
import type { ExecTarget } from './status.js';

export interface ExecResult {
  /** The command's exit code; 128 + signal number when a signal ended it. */
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
}

const SIGNALS: Readonly<Record<string, number>> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGPIPE: 13, SIGALRM: 14, SIGTERM: 15 };

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
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  if (options.input !== undefined) child.stdin?.end(options.input);
  let timedOut = false;
  const timer = options.timeoutMs
    ? setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL');
      }, options.timeoutMs)
    : undefined;
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? 128 + (signal ? (SIGNALS[signal] ?? 0) : 0), stdout, stderr, timedOut });
    });
  });
}
