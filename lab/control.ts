/*
 * How CLI commands talk to a lab's supervisor: one JSON request and one JSON answer per
 * connection on a unix socket in the lab's state dir (root-only, like the rest of /run). What the
 * requests and answers are is control-protocol.ts; this is the transport.
 */
import { createConnection, createServer, type Server } from 'node:net';
import {
  dispatchControl,
  parseControlRequest,
  type ControlHandlers,
  type ControlOp,
  type RequestOf,
  type ResponseOf,
} from './control-protocol.js';
import { LabError, type LabErrorCode } from './errors.js';

type ControlAnswer =
  { readonly ok: true; readonly result: unknown } | { readonly ok: false; readonly code: LabErrorCode; readonly message: string };

const MAX_REQUEST_BYTES = 16 * 1024 * 1024;

async function answer(handlers: ControlHandlers, line: string): Promise<ControlAnswer> {
  try {
    return { ok: true, result: await dispatchControl(handlers, parseControlRequest(JSON.parse(line))) };
  } catch (error) {
    return error instanceof LabError
      ? { ok: false, code: error.code, message: error.message }
      : { ok: false, code: 'system', message: (error as Error).stack ?? String(error) };
  }
}

export function serveControl(path: string, handlers: ControlHandlers): Promise<Server> {
  const server = createServer((socket) => {
    let buffer = '';
    socket.setEncoding('utf8');
    socket.on('error', () => undefined);
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      if (buffer.length > MAX_REQUEST_BYTES) socket.destroy();
      const newline = buffer.indexOf('\n');
      if (newline < 0) return;
      const line = buffer.slice(0, newline);
      buffer = '';
      socket.pause();
      void answer(handlers, line).then((a) => socket.end(`${JSON.stringify(a)}\n`));
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve(server));
  });
}

/** Sends one request; rejects with the supervisor's LabError, or 'system' if it cannot be reached. */
export function callControl<O extends ControlOp>(path: string, request: RequestOf<O>, timeoutMs: number): Promise<ResponseOf<O>> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(path);
    let buffer = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new LabError('timeout', `the lab supervisor did not answer ${request.op} within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(`${JSON.stringify(request)}\n`));
    socket.on('data', (chunk: string) => (buffer += chunk));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new LabError('system', `cannot reach the lab supervisor at ${path}: ${err.code ?? err.message}`, { cause: err }));
    });
    socket.on('end', () => {
      clearTimeout(timer);
      let answer: ControlAnswer;
      try {
        answer = JSON.parse(buffer) as ControlAnswer;
      } catch {
        reject(new LabError('system', `the lab supervisor closed the connection without an answer to ${request.op}`));
        return;
      }
      // The supervisor answers with the handler's result for this op (control-protocol.ts).
      if (answer.ok) resolve(answer.result as ResponseOf<O>);
      else reject(new LabError(answer.code, answer.message));
    });
  });
}
