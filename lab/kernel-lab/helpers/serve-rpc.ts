/**
 * The helper side of protocol.ts: read requests from stdin, answer on stdout.
 *
 * Requests run concurrently, so a long connect loop does not block the request that stops it.
 * When stdin closes, the harness is gone (finished or crashed), and the helper exits so it never
 * outlives the test that started it.
 */
import { createInterface } from 'node:readline';
import { EXIT_METHOD, type ReadyMessage, type Request, type Response } from '../protocol.js';

export type Handler = (params: unknown) => Promise<unknown>;

function send(message: ReadyMessage | Response): void {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

export function serveRpc(handlers: Record<string, Handler>): void {
  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    if (line.trim() === '') return;
    let request: Request;
    try {
      request = JSON.parse(line) as Request;
    } catch {
      process.stderr.write(`unparsable request: ${line}\n`);
      return;
    }
    void answer(request, handlers);
  });
  lines.on('close', () => process.exit(0));
  send({ ready: true, pid: process.pid });
}

async function answer(request: Request, handlers: Record<string, Handler>): Promise<void> {
  if (request.method === EXIT_METHOD) {
    send({ id: request.id, result: null });
    process.exit(0);
  }
  const handler = handlers[request.method];
  if (!handler) {
    send({ id: request.id, error: `unknown method ${request.method}` });
    return;
  }
  try {
    send({ id: request.id, result: (await handler(request.params)) ?? null });
  } catch (err) {
    send({ id: request.id, error: err instanceof Error ? err.message : String(err) });
  }
}
