/*
 * The programming benchmark's probe, run where a system's client runs (its cgroup and namespace):
 * for each NAME read from stdin it connects to ADDRESS:PORT again and again, each time reading
 * which name-server answered, until NAME does; then prints the wall-clock time (ms since the
 * epoch, fractional) of that first answer. Each attempt is a new connection with a short
 * timeout, so a SYN the old rules dropped costs 100 ms, not the kernel's 1 s retransmit, and
 * attempts are 2 ms apart (the resolution).
 *
 *   probe-main ADDRESS PORT        prints `ready`, then one time per NAME line
 */
import { request } from 'node:http';
import { createInterface } from 'node:readline';

const [address, portText] = process.argv.slice(2);
if (!address || !portText) {
  process.stderr.write('usage: probe-main ADDRESS PORT\n');
  process.exit(2);
}
const ATTEMPT_TIMEOUT_MS = 100;
const ATTEMPT_PAUSE_MS = 2;
const nowEpochMs = (): number => performance.timeOrigin + performance.now();

/** Who answered one GET, or undefined when nobody did in time. */
function whoAnswers(): Promise<string | undefined> {
  return new Promise((resolve) => {
    const req = request({ host: address, port: Number(portText), path: '/', agent: false, timeout: ATTEMPT_TIMEOUT_MS }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve(body.trim()));
      res.on('error', () => resolve(undefined));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
    req.end();
  });
}

async function until(name: string): Promise<number> {
  for (;;) {
    const answered = await whoAnswers();
    const at = nowEpochMs();
    if (answered === name) return at;
    // Several probes wait at once on 2 cores: pausing between attempts keeps them from starving
    // the systems they measure, at the price of this much resolution.
    await new Promise((r) => setTimeout(r, ATTEMPT_PAUSE_MS));
  }
}

const lines = createInterface({ input: process.stdin });
let queue = Promise.resolve();
lines.on('line', (name) => {
  queue = queue.then(async () => {
    process.stdout.write(`${(await until(name.trim())).toFixed(3)}\n`);
  });
});
lines.on('close', () => process.exit(0));
process.stdout.write('ready\n');
