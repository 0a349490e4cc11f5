/**
 * The JSON-lines protocol between the harness and its helper processes.
 *
 * One JSON object per line. The helper first writes a ReadyMessage, then answers every Request
 * with exactly one Response carrying the same id. Anything on stdout that does not parse is a
 * protocol error; helpers write diagnostics to stderr.
 */

export interface ReadyMessage {
  ready: true;
  pid: number;
}

export interface Request {
  id: number;
  method: string;
  params: unknown;
}

export type Response = { id: number; result: unknown } | { id: number; error: string };

/** Asking a helper to leave on its own; it answers, then exits. */
export const EXIT_METHOD = 'exit';

export function isReadyMessage(value: unknown): value is ReadyMessage {
  return typeof value === 'object' && value !== null && (value as { ready?: unknown }).ready === true;
}

export function isResponse(value: unknown): value is Response {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { id?: unknown }).id === 'number' &&
    ('result' in value || 'error' in value)
  );
}
