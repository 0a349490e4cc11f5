/*
 * Connects to a VIP from a given network namespace, inside a node's cgroup: each namespace has
 * its own netns cookie, so kernel suites use several to play several clients (MAGLEV, session
 * affinity). The process joins the cgroup before exec, so every connect it makes runs the
 * datapath.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { kernelEnv, netnsPath } from '../../lab/kernel-lab/index.js';

/** Connects `count` times, one after the other; prints each answer, or "!" and the error code. */
const CONNECTOR = `
const net = require('node:net');
const [host, port, count] = [process.argv[1], Number(process.argv[2]), Number(process.argv[3])];
const one = () => new Promise((resolve) => {
  const s = net.createConnection({ host, port, autoSelectFamily: false });
  let data = '';
  s.setTimeout(2000, () => { s.destroy(); resolve('!ETIMEDOUT'); });
  s.on('error', (e) => resolve('!' + (e.code || e.message)));
  s.on('data', (d) => { data += d; if (data.includes('\\n')) { s.destroy(); resolve(data.trim()); } });
});
(async () => { const out = []; for (let i = 0; i < count; i++) out.push(await one()); process.stdout.write(JSON.stringify(out)); })();
`;

/** The answers of `count` sequential TCP connects to vip:port from `netns`, in the cgroup at `cgroupPath`. */
export function connectFrom(cgroupPath: string, netns: string, vip: string, port: number, count: number): Promise<string[]> {
  const env = kernelEnv();
  const { NODE_OPTIONS: _dropped, ...childEnv } = process.env;
  const script = 'echo $$ > "$1" && exec "$2" --net="$3" -- "$4" -e "$5" "$6" "$7" "$8"';
  const args = [
    join(cgroupPath, 'cgroup.procs'),
    env.nsenter,
    netnsPath(netns),
    process.execPath,
    CONNECTOR,
    vip,
    String(port),
    String(count),
  ];
  const child = spawn(env.sh, ['-c', script, 'sh', ...args], { stdio: ['ignore', 'pipe', 'inherit'], env: childEnv });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`connector in ${netns} did not finish`));
    }, 30_000);
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('close', () => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(out) as string[]);
      } catch (err) {
        reject(new Error(`connector in ${netns} wrote ${JSON.stringify(out)}`, { cause: err }));
      }
    });
  });
}
