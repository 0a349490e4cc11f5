/*
 * The readiness prober: runs inside the lab's bridge namespace (where the kubelet's probes would
 * come from) and answers one JSON line per request {id, address, port, timeoutMs} with
 * {id, ok, error?}, ok meaning a TCP connect succeeded. It exits when its stdin closes, so it
 * never outlives the supervisor that feeds it.
 */
import { connect } from 'node:net';
import { createInterface } from 'node:readline';

interface ProbeRequest {
  readonly id: number;
  readonly address: string;
  readonly port: number;
  readonly timeoutMs: number;
}

function probe(request: ProbeRequest): Promise<{ ok: boolean; error?: string }> {
  return new Promise((resolve) => {
    const socket = connect({ host: request.address, port: request.port });
    const done = (result: { ok: boolean; error?: string }): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => done({ ok: false, error: 'ETIMEDOUT' }), request.timeoutMs);
    socket.once('connect', () => done({ ok: true }));
    socket.once('error', (err: NodeJS.ErrnoException) => done({ ok: false, error: err.code ?? err.message }));
  });
}

createInterface({ input: process.stdin }).on('line', (line) => {
  let request: ProbeRequest;
  try {
    request = JSON.parse(line) as ProbeRequest;
  } catch {
    return;
  }
  void probe(request).then((result) => process.stdout.write(`${JSON.stringify({ id: request.id, ...result })}\n`));
});
process.stdin.on('end', () => process.exit(0));
process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
