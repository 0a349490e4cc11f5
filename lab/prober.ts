/* The supervisor's side of the prober (see prober-main.ts). */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { LabError } from './errors.js';
import { refOf, type ProcessRef } from './processes.js';
import { PROGRAMS } from './programs.js';

type Pending = (ok: boolean) => void;

export class Prober {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private exited = false;

  private constructor(
    private readonly child: ChildProcessByStdio<Writable, Readable, null>,
    readonly ref: ProcessRef,
  ) {
    child.on('exit', () => {
      this.exited = true;
      for (const resolve of this.pending.values()) resolve(false);
      this.pending.clear();
    });
    child.stdin.on('error', () => undefined);
  }

  static async start(ip: string, bridgeNetns: string, stderrFd: number, timeoutMs = 10_000): Promise<Prober> {
    const child = spawn(ip, ['netns', 'exec', bridgeNetns, process.execPath, PROGRAMS.prober], {
      stdio: ['pipe', 'pipe', stderrFd],
      env: { PATH: process.env['PATH'] ?? '' },
    }) as ChildProcessByStdio<Writable, Readable, null>;
    const ref = child.pid !== undefined ? refOf(child.pid) : undefined;
    if (!ref) throw new LabError('system', 'the prober did not start');
    const lines = createInterface({ input: child.stdout });
    const prober = new Prober(child, ref);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new LabError('system', `the prober did not start within ${timeoutMs} ms`)), timeoutMs);
      child.once('exit', (code) => reject(new LabError('system', `the prober exited with ${code} before it was ready`)));
      lines.on('line', (line) => {
        let message: { id?: number; ok?: boolean; ready?: boolean };
        try {
          message = JSON.parse(line) as typeof message;
        } catch {
          return;
        }
        if (message.ready) {
          clearTimeout(timer);
          resolve();
        } else if (message.id !== undefined) {
          prober.pending.get(message.id)?.(message.ok === true);
          prober.pending.delete(message.id);
        }
      });
    });
    return prober;
  }

  /** True when a TCP connect to address:port succeeds from the bridge within timeoutMs. */
  probe(address: string, port: number, timeoutMs = 1000): Promise<boolean> {
    if (this.exited) return Promise.resolve(false);
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.child.stdin.write(`${JSON.stringify({ id, address, port, timeoutMs })}\n`);
    });
  }

  /** Ends the prober and waits (bounded) until it is reaped. */
  async stop(timeoutMs = 1000): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.stdin.end();
    this.child.kill('SIGKILL');
    await Promise.race([gone, new Promise((resolve) => setTimeout(resolve, timeoutMs))]);
  }
}
