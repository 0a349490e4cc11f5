/*
 * kubectl against the control plane. A non-zero exit is a result, not an error: tests assert on
 * refusals (403) as much as on successes. Only failing to run kubectl at all throws.
 */
import { execFile } from 'node:child_process';
import { ControlPlaneError } from './errors.js';

export interface KubectlResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly code: number;
}

export interface KubectlTarget {
  readonly binary: string;
  readonly kubeconfig: string;
  /** Discovery cache: per control plane, so nothing is read from or left in the user's ~/.kube. */
  readonly cacheDir: string;
}

const KUBECTL_TIMEOUT_MS = 60_000;

export function runKubectl(target: KubectlTarget, args: readonly string[], input?: string): Promise<KubectlResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      target.binary,
      [`--kubeconfig=${target.kubeconfig}`, `--cache-dir=${target.cacheDir}`, ...args],
      {
        timeout: KUBECTL_TIMEOUT_MS,
        encoding: 'utf8',
        maxBuffer: 64 * 1024 * 1024,
        env: { PATH: process.env['PATH'] ?? '', HOME: target.cacheDir },
      },
      (error, stdout, stderr) => {
        if (!error) {
          resolve({ stdout, stderr, code: 0 });
          return;
        }
        const { code, killed, signal } = error as Omit<NodeJS.ErrnoException, 'code'> & {
          code?: unknown;
          killed?: boolean;
          signal?: string | null;
        };
        if (typeof code === 'number') {
          resolve({ stdout, stderr, code });
          return;
        }
        const [kind, what] = killed
          ? (['timeout', `timed out after ${KUBECTL_TIMEOUT_MS} ms`] as const)
          : signal
            ? (['system', `was killed by ${signal}`] as const)
            : (['prereq', `could not run: ${error.message}`] as const);
        reject(new ControlPlaneError(kind, 'kubectl', `kubectl ${args.join(' ')} ${what}`, undefined, { cause: error }));
      },
    );
    child.stdin?.end(input ?? '');
  });
}
