/*
 * A client to run inside a pod (`lab exec`) that asks a helloworld Service who answers, without a
 * process per connect: a shell loop of curls costs a process spawn each, too slow for the
 * thousands of connects a statistical check needs. Each connect is a real TCP connect from the
 * pod, so it passes through the node's connect hook like any other.
 *
 *   connect-probe count HOST PORT N   N connects one after another, each GET /hello then closed
 *   connect-probe hold HOST PORT N    N connects one after another, each held open until all N
 *                                     are established; then GET /hello on each, then all closed
 *
 * Prints one JSON line: {"answers": {version: n}, "failures": {error: n}, "ms": total}.
 * `hold` keeps every connection open while the next is made, so a balance by open connections
 * (LEAST_REQUEST) sees the earlier ones; the request comes only once all are open, so no server
 * idle timeout can close one early.
 */
import { connect, type Socket } from 'node:net';

const ANSWER = /Hello version: (.*), instance: /;
const TIMEOUT_MS = 5_000;

interface Tally {
  readonly answers: Record<string, number>;
  readonly failures: Record<string, number>;
}

function add(counts: Record<string, number>, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1;
}

function open(host: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    socket.setTimeout(TIMEOUT_MS, () => socket.destroy(new Error('ETIMEDOUT')));
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Sends GET /hello and resolves with the version that answered. */
function ask(socket: Socket, close: boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      text += chunk;
      const m = ANSWER.exec(text);
      if (m) resolve(m[1]!);
    });
    socket.once('error', reject);
    socket.once('close', () => reject(new Error(`closed before an answer: ${JSON.stringify(text.slice(0, 200))}`)));
    socket.write(`GET /hello HTTP/1.1\r\nHost: probe\r\nConnection: ${close ? 'close' : 'keep-alive'}\r\n\r\n`);
  });
}

function failure(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? (error as Error).message;
}

async function count(host: string, port: number, n: number, tally: Tally): Promise<void> {
  for (let i = 0; i < n; i++) {
    let socket: Socket | undefined;
    try {
      socket = await open(host, port);
      add(tally.answers, await ask(socket, true));
    } catch (error) {
      add(tally.failures, failure(error));
    } finally {
      socket?.destroy();
    }
  }
}

async function hold(host: string, port: number, n: number, tally: Tally): Promise<void> {
  const held: Socket[] = [];
  try {
    for (let i = 0; i < n; i++) {
      try {
        held.push(await open(host, port));
      } catch (error) {
        add(tally.failures, failure(error));
      }
    }
    const versions = await Promise.allSettled(held.map((socket) => ask(socket, false)));
    for (const v of versions) {
      if (v.status === 'fulfilled') add(tally.answers, v.value);
      else add(tally.failures, failure(v.reason));
    }
  } finally {
    for (const socket of held) socket.destroy();
  }
}

async function main(): Promise<void> {
  const [mode, host, portText, nText] = process.argv.slice(2);
  const port = Number(portText);
  const n = Number(nText);
  if ((mode !== 'count' && mode !== 'hold') || !host || !Number.isInteger(port) || !Number.isInteger(n) || n < 1) {
    process.stderr.write('usage: connect-probe count|hold HOST PORT N\n');
    process.exit(2);
  }
  const tally: Tally = { answers: {}, failures: {} };
  const started = Date.now();
  await (mode === 'count' ? count : hold)(host, port, n, tally);
  process.stdout.write(`${JSON.stringify({ ...tally, ms: Date.now() - started })}\n`);
}

void main();
