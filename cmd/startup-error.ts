/*
 * A start-up problem the operator has to fix (a flag, a permission, a missing cgroup). It is
 * printed as one line and exits 2, so it is never mistaken for a crash (exit 1 and a stack).
 */
export type StartupProblem =
  | 'usage'
  | 'missing-node-name'
  | 'bad-option'
  | 'missing-cgroup'
  | 'no-bpffs'
  | 'no-bpf-permission'
  | 'pin-conflict'
  | 'datapath'
  | 'source'
  | 'kubeconfig'
  | 'cluster';

export const STARTUP_EXIT_CODE = 2;

export class StartupError extends Error {
  constructor(
    readonly problem: StartupProblem,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StartupError';
  }
}

/** The one line a failed start prints. */
export function startupLine(program: string, error: StartupError): string {
  return `${program}: ${error.problem}: ${error.message.replace(/\s*\n\s*/g, ' ')}`;
}
