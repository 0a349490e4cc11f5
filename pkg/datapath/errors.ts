/** Typed errors at the datapath boundary. Each names what it was doing and to which object. */

export class DatapathError extends Error {
  constructor(
    message: string,
    readonly errno?: number,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** A libbpf call failed. */
export class BpfCallError extends DatapathError {
  constructor(
    readonly call: string,
    errno: number,
    readonly target: string,
  ) {
    super(`${call}(${target}) failed: ${errnoName(errno)} (${errno})`, errno);
  }
}

/** A map had no room; the service named was left as it was. */
export class MapFullError extends DatapathError {
  constructor(
    readonly map: string,
    readonly service: string,
    readonly capacity: number,
  ) {
    super(`map "${map}" is full (${capacity} entries): service ${service} left as it was`, 7);
  }
}

/** The spec handed to the writer cannot be programmed. */
export class InvalidServiceError extends DatapathError {
  constructor(
    readonly service: string,
    readonly reason: string,
  ) {
    super(`service ${service}: ${reason}`);
  }
}

/** Pinned state exists but does not fit this agent (other cgroup, other map shape). */
export class PinConflictError extends DatapathError {}

const NAMES: Record<number, string> = {
  1: 'EPERM',
  2: 'ENOENT',
  7: 'E2BIG',
  9: 'EBADF',
  12: 'ENOMEM',
  13: 'EACCES',
  16: 'EBUSY',
  17: 'EEXIST',
  22: 'EINVAL',
  28: 'ENOSPC',
  95: 'EOPNOTSUPP',
};

export function errnoName(errno: number): string {
  return NAMES[Math.abs(errno)] ?? `errno ${Math.abs(errno)}`;
}

/** Uninstall could not remove a pin of nearby's (or read one to decide); `path` names it. */
export class UninstallError extends DatapathError {
  constructor(
    readonly path: string,
    what: string,
    errno?: number,
  ) {
    super(`${path}: ${what}`, errno);
  }
}
