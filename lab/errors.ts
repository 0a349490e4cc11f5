/*
 * The lab's one error type. `code` says what kind of problem it is, so the CLI can pick an exit
 * code and a test can assert on the kind without matching message text.
 */
export type LabErrorCode =
  /** A command line or API call that cannot be right. */
  | 'usage'
  /** The machine lacks something the lab needs (root, cgroup2, bpffs, a tool, a build). */
  | 'prereq'
  /** A manifest the lab cannot accept (unknown image, bad field, missing namespace). */
  | 'invalid'
  /** The named lab, pod, node or object does not exist. */
  | 'not-found'
  /** The lab is already up, or a resource it needs belongs to someone else. */
  | 'conflict'
  /** Something was left behind that the lab could not remove. */
  | 'leftovers'
  /** A wait ran out of time; the message lists what was still pending. */
  | 'timeout'
  /** A tool or a kernel call failed. */
  | 'system';

export class LabError extends Error {
  constructor(
    readonly code: LabErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'LabError';
  }
}

/** By class, or by name and code: a second copy of this module (the lab loaded twice) has its own class. */
export function isLabError(error: unknown): error is LabError {
  return (
    error instanceof LabError ||
    (error instanceof Error && error.name === 'LabError' && typeof (error as { code?: unknown }).code === 'string')
  );
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
