/** Typed errors of the sources. Each names what was being read and why it failed. */
import type { WatchedKind } from './types.js';

export class SourceError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A manifest file could not be read or parsed; its previously good objects are kept. */
export class ManifestError extends SourceError {
  constructor(
    readonly file: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`${file}: ${reason}`, options);
  }
}

/** Listing or watching one kind failed; the informer for that kind retries with backoff. */
export class KindSyncError extends SourceError {
  readonly unreachable: boolean;

  constructor(
    readonly kind: WatchedKind | 'Secret',
    readonly phase: 'list' | 'watch',
    cause: unknown,
  ) {
    super(`${kind}: ${phase} failed: ${describeCause(cause)}`, { cause });
    this.unreachable = isConnectionFailure(cause);
  }
}

/** A list call did not answer in time; raised so a hung request cannot stall an informer forever. */
export class ListTimeoutError extends SourceError {
  constructor(readonly timeoutMs: number) {
    super(`no answer within ${timeoutMs} ms`);
  }
}

const CONNECTION_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
]);

function errorCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const { code, errno } = err as { code?: unknown; errno?: unknown };
  if (typeof code === 'string') return code;
  return typeof errno === 'string' ? errno : undefined;
}

/** True when the failure is the network path to the API server, not an answer from it. */
export function isConnectionFailure(err: unknown): boolean {
  const code = errorCode(err);
  if (code !== undefined && CONNECTION_ERROR_CODES.has(code)) return true;
  return err instanceof ListTimeoutError;
}

/** HTTP status of an API error, whichever of client-node's error shapes carries it. */
export function httpStatusOf(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const { code, statusCode } = err as { code?: unknown; statusCode?: unknown };
  if (typeof statusCode === 'number') return statusCode;
  return typeof code === 'number' ? code : undefined;
}

export function describeCause(err: unknown): string {
  const status = httpStatusOf(err);
  const message = err instanceof Error ? err.message : String(err);
  if (status !== undefined) {
    // ApiException messages embed the whole response body; the first line is enough for a status.
    const firstLine = message.split('\n', 1)[0] ?? '';
    return `HTTP ${status}${firstLine && !firstLine.includes(String(status)) ? ` ${firstLine}` : ''}`;
  }
  return message;
}
