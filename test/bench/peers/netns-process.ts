/*
 * A long-lived process inside a network namespace: nsenter enters it and execs the program, so the
 * PID we hold is the program's own and its every socket is in that namespace. A TypeScript main
 * runs through node + tsx, as the kernel lab's helpers do. Ready when its first stdout line says
 * `ready`; stopped by PID and start time (lab/processes.ts), never by name.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { kernelEnv, netnsPath } from '../../../lab/kernel-lab/index.js';
import { refOf, terminate, type ProcessRef } from '../../../lab/processes.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));

export interface NetnsProcess {
  readonly ref: ProcessRef;
  readonly child: ChildProcess;
  /** Resolves once the process has exited, with how. */
  readonly exited: Promise<string>;
  stop(graceMs?: number): Promise<void>;
}

export interface NetnsSpawnOptions {
  readonly netns: string;
  readonly argv: readonly string[];
  /** stdout and stderr go here (appended); stdout is still read for the ready line when asked. */
  readonly logFile: string;
  /** Wait for a first stdout line `ready` (a TypeScript main of ours); else ready once spawned. */
  readonly readyLine?: boolean;
  readonly readyTimeoutMs?: number;
}

/** argv for one of this folder's TypeScript mains. */
export function tsMain(file: string, args: readonly string[]): string[] {
  return [process.execPath, '--import', kernelEnv().tsxLoader, join(HERE, file), ...args];
}

export async function spawnInNetns(options: NetnsSpawnOptions): Promise<NetnsProcess> {
  const env = kernelEnv();
  // NODE_OPTIONS of the test runner (loaders, inspector) must not leak into children.
  const { NODE_OPTIONS: _dropped, ...childEnv } = process.env;
  const child = spawn(env.nsenter, [`--net=${netnsPath(options.netns)}`, '--', ...options.argv], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: childEnv,
  });
  const log = createWriteStream(options.logFile, { flags: 'a' });
  child.stderr.pipe(log);
  const exited = new Promise<string>((resolve) =>
    child.on('exit', (code, signal) => resolve(signal ? `signal ${signal}` : `exit code ${code}`)),
  );
  const ready = new Promise<void>((resolve, reject) => {
    if (!options.readyLine) {
      child.stdout.pipe(log);
      child.once('spawn', () => resolve());
      child.once('error', reject);
      return;
    }
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      if (line.trim() === 'ready') resolve();
      log.write(`${line}\n`);
    });
    child.once('error', reject);
  });
  const timeoutMs = options.readyTimeoutMs ?? 15_000;
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    ready.then(() => 'ready'),
    exited.then((how) => `ended before it was ready (${how}); log: ${options.logFile}`),
    new Promise<string>((resolve) => (timer = setTimeout(() => resolve(`not ready within ${timeoutMs} ms`), timeoutMs))),
  ]);
  clearTimeout(timer);
  const ref = child.pid === undefined ? undefined : refOf(child.pid);
  const stop = async (graceMs = 2_000): Promise<void> => {
    if (ref) {
      const survivors = await terminate([ref], graceMs);
      if (survivors.length > 0) throw new Error(`${options.argv[0]} (pid ${ref.pid}) survived SIGKILL`);
    }
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 1_000))]);
    log.end();
  };
  if (outcome !== 'ready' || ref === undefined) {
    await stop(0);
    throw new Error(`${options.argv.join(' ')} in netns ${options.netns}: ${outcome}`);
  }
  return { ref, child, exited, stop };
}
