/**
 * A helper process (client or pod server) placed in a cgroup and a netns before its first
 * instruction runs, and driven over protocol.ts.
 *
 * Placement (../place.ts): a tiny `sh` writes its own PID into <cgroup>/cgroup.procs, then execs nsenter,
 * which enters the netns and execs node. Same PID throughout, so the process is in the cgroup
 * before node starts and long before it opens a socket. nsenter, unlike `ip netns exec`, does
 * not remount /sys, so nothing depends on cgroupfs being visible inside. Both placements are
 * verified from outside after the helper says it is ready.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { cgroupOfPid, cgroupProcPath } from './cgroups.js';
import { HELPER_START_TIMEOUT_MS } from './limits.js';
import { netnsPath } from './netns.js';
import { kernelEnv } from './prereqs.js';
import { placedShellArgs } from '../place.js';
import { isLivePid, waitUntil } from '../processes.js';
import { EXIT_METHOD, isReadyMessage, isResponse, type Request, type Response } from './protocol.js';

const HELPERS_DIR = join(fileURLToPath(new URL('.', import.meta.url)), 'helpers');

const STDERR_KEPT = 4096;

export interface HelperSpec {
  /** File name under helpers/. */
  script: string;
  cgroupPath: string;
  netns: string;
  /** For error messages. */
  label: string;
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

export class HelperProcess {
  readonly pid: number;
  readonly label: string;
  private readonly child: ChildProcessByStdio<Writable, Readable, Readable>;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private stderrTail = '';
  private exitInfo: string | undefined;
  private readonly exited: Promise<void>;

  private constructor(child: ChildProcessByStdio<Writable, Readable, Readable>, label: string) {
    if (child.pid === undefined) throw new Error(`${label}: spawn gave no pid`);
    this.child = child;
    this.pid = child.pid;
    this.label = label;
    this.exited = new Promise((resolve) => {
      child.on('exit', (code, sig) => {
        this.exitInfo = sig ? `signal ${sig}` : `exit code ${code}`;
        this.failAll(new Error(`${label} (pid ${this.pid}) ended with ${this.exitInfo}${this.stderrNote()}`));
        resolve();
      });
    });
    child.stderr.on('data', (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString('utf8')).slice(-STDERR_KEPT);
    });
    // A broken pipe on stdin shows up as an exit too; keep it from being an uncaught error.
    child.stdin.on('error', () => undefined);
  }

  static async start(spec: HelperSpec): Promise<HelperProcess> {
    const env = kernelEnv();
    const argv = placedShellArgs(spec.cgroupPath, [
      env.nsenter,
      `--net=${netnsPath(spec.netns)}`,
      '--',
      process.execPath,
      '--import',
      env.tsxLoader,
      join(HELPERS_DIR, spec.script),
    ]);
    // NODE_OPTIONS from the test runner (loaders, inspector) must not leak into helpers.
    const { NODE_OPTIONS: _dropped, ...childEnv } = process.env;
    const child = spawn(env.sh, argv, { stdio: ['pipe', 'pipe', 'pipe'], env: childEnv, cwd: HELPERS_DIR });
    const helper = new HelperProcess(child, spec.label);
    try {
      await helper.waitReady();
      helper.verifyPlacement(spec);
    } catch (err) {
      await helper.kill();
      throw err;
    }
    return helper;
  }

  get running(): boolean {
    return this.exitInfo === undefined;
  }

  private stderrNote(): string {
    const tail = this.stderrTail.trim();
    return tail ? `; stderr: ${tail}` : '';
  }

  private waitReady(): Promise<void> {
    return new Promise((resolve, reject) => {
      let ready = false;
      const timer = setTimeout(
        () => reject(new Error(`${this.label} not ready within ${HELPER_START_TIMEOUT_MS} ms${this.stderrNote()}`)),
        HELPER_START_TIMEOUT_MS,
      );
      void this.exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`${this.label} (pid ${this.pid}) ended with ${this.exitInfo} before ready${this.stderrNote()}`));
      });
      createInterface({ input: this.child.stdout }).on('line', (line) => {
        let message: unknown;
        try {
          message = JSON.parse(line);
        } catch {
          this.stderrTail = `${this.stderrTail}\n[stdout] ${line}`.slice(-STDERR_KEPT);
          return;
        }
        if (!ready && isReadyMessage(message)) {
          ready = true;
          clearTimeout(timer);
          resolve();
        } else if (isResponse(message)) {
          this.settle(message);
        }
      });
    });
  }

  /** From outside, so a helper cannot vouch for itself. */
  private verifyPlacement(spec: HelperSpec): void {
    const expected = cgroupProcPath(spec.cgroupPath);
    const actual = cgroupOfPid(this.pid);
    if (actual !== expected) {
      throw new Error(`${this.label} (pid ${this.pid}) is in cgroup ${actual ?? '?'}, expected ${expected}`);
    }
    const netnsInode = statSync(netnsPath(spec.netns)).ino;
    const ownInode = statSync(`/proc/${this.pid}/ns/net`).ino;
    if (ownInode !== netnsInode) {
      throw new Error(`${this.label} (pid ${this.pid}) is not in netns ${spec.netns}`);
    }
  }

  private settle(response: Response): void {
    const pending = this.pending.get(response.id);
    if (!pending) return;
    this.pending.delete(response.id);
    clearTimeout(pending.timer);
    if ('error' in response) pending.reject(new Error(`${this.label}: ${response.error}`));
    else pending.resolve(response.result);
  }

  private failAll(err: Error): void {
    for (const [id, pending] of this.pending) {
      clearTimeout(pending.timer);
      pending.reject(err);
      this.pending.delete(id);
    }
  }

  call<T>(method: string, params: unknown, timeoutMs: number): Promise<T> {
    if (!this.running) {
      return Promise.reject(new Error(`${this.label} (pid ${this.pid}) is not running (${this.exitInfo})`));
    }
    const id = this.nextId++;
    const request: Request = { id, method, params };
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.label}: ${method} got no answer within ${timeoutMs} ms${this.stderrNote()}`));
      }, timeoutMs);
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject, timer });
      this.child.stdin.write(`${JSON.stringify(request)}\n`);
    });
  }

  /** Asks the helper to exit, then kills it by PID if it does not within graceMs. */
  async stop(graceMs = 1000): Promise<void> {
    if (this.running) {
      this.call(EXIT_METHOD, null, graceMs).catch(() => undefined);
      this.child.stdin.end();
      const timer = new Promise<void>((resolve) => setTimeout(resolve, graceMs));
      await Promise.race([this.exited, timer]);
    }
    await this.kill();
  }

  /** SIGKILL by PID (through the ChildProcess, which knows whether the PID is still ours). */
  async kill(): Promise<void> {
    if (this.running) this.child.kill('SIGKILL');
    await this.exited;
    // 'exit' fires when node reaps the child; wait for the kernel to agree.
    await waitUntil(() => !isLivePid(this.pid), 2000);
  }
}
