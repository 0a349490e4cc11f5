/*
 * nearby-agent as a child process for kernel tests: started from the sources through tsx (so no
 * build step can leave a stale dist/ under test), with its output kept for assertions and for
 * the failure message, and ended by its own PID only.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Variables the agent reads; a test states each one it wants, the runner's never leak in. */
const AGENT_ENV = /^(NODE_NAME|KUBECONFIG|LOG_LEVEL|NEARBY_.*)$/;

export interface AgentRun {
  readonly child: ChildProcess;
  /** stdout and stderr so far, interleaved as they arrived. */
  readonly log: () => string;
  /** Parsed pino lines of stdout (non-JSON lines skipped). */
  records(): Array<Record<string, unknown>>;
  /** Resolves with the exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
  /** SIGKILL by PID if still running, and wait for the exit. */
  kill(): Promise<void>;
}

export interface AgentStart {
  readonly args: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  /** A command and its arguments to run the agent under (setpriv, say); it must exec, not fork. */
  readonly wrapper?: readonly string[];
  /**
   * Run the compiled agent (dist/, as `make test-kernel` builds it) rather than the sources: for
   * tests that time a restart, which in production does not transpile anything first.
   */
  readonly compiled?: boolean;
}

export function startAgent({ args, env = {}, wrapper = [], compiled = false }: AgentStart): AgentRun {
  const baseEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !AGENT_ENV.test(k)));
  const built = join(ROOT, 'dist/cmd/agent.js');
  if (compiled && !existsSync(built))
    throw new Error(`${built} is missing: build it first (npx tsc -p tsconfig.json, or make test-kernel)`);
  const entry = compiled ? [built] : ['--import', 'tsx', join(ROOT, 'cmd/agent.ts')];
  const argv = [process.execPath, ...entry, ...args];
  const [command, ...rest] = [...wrapper, ...argv];
  const child = spawn(command!, rest, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...baseEnv, ...env } });
  let all = '';
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => {
    all += d.toString();
    stdout += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => (all += d.toString()));
  const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
  return {
    child,
    exited,
    log: () => all,
    records: () =>
      stdout.split('\n').flatMap((line) => {
        if (!line.startsWith('{')) return [];
        try {
          return [JSON.parse(line) as Record<string, unknown>];
        } catch {
          return [];
        }
      }),
    async kill() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}

/** Runs the agent until it exits on its own; kills it (and fails) if it is still up after timeoutMs. */
export async function runAgentToExit(start: AgentStart, timeoutMs = 30_000): Promise<{ code: number | null; log: string }> {
  const run = startAgent(start);
  const timer = setTimeout(() => void run.kill(), timeoutMs);
  const code = await run.exited;
  clearTimeout(timer);
  if (code === null) throw new Error(`nearby-agent did not exit within ${timeoutMs} ms; log:\n${run.log()}`);
  return { code, log: run.log() };
}

/** A loopback port nothing listens on (free a moment ago). */
export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => res(p));
    });
    s.on('error', rej);
  });
}

/** Polls until probe gives a value; on timeout the error carries the agent's recent log. */
export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  log: () => string,
  timeoutMs = 5000,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await Promise.resolve()
      .then(probe)
      .catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; agent log:\n${log().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** GET on the agent's health server: status and body. */
export async function health(port: number, path: '/healthz' | '/readyz' | '/metrics'): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, body: await res.text() };
}

/** The path of a tool the test cannot do without; throws naming it (tests fail, never skip). */
export function requireTool(name: string, packageName: string): string {
  // Test runners often drop sbin from PATH, where bpftool lives.
  for (const dir of [...(process.env['PATH'] ?? '').split(delimiter), '/usr/sbin', '/sbin', '/usr/bin', '/bin']) {
    if (!dir) continue;
    try {
      accessSync(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {
      // not here
    }
  }
  throw new Error(`kernel test prerequisite missing: \`${name}\` (${packageName})`);
}

/** Programs attached directly to a cgroup, as bpftool lists them. */
export function attachedPrograms(cgroupPath: string): unknown[] {
  const out = execFileSync(requireTool('bpftool', 'bpftool'), ['-j', 'cgroup', 'show', cgroupPath], { encoding: 'utf8' });
  return JSON.parse(out.trim() || '[]') as unknown[];
}
