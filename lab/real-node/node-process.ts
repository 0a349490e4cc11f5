/*
 * A node daemon (containerd, the kubelet) as a child of the supervisor, inside the node's netns
 * (`nsenter --net`, not `ip netns exec`, which would also remount /sys and so hide
 * /sys/fs/cgroup from the kubelet and runc) and a UTS namespace of its own whose hostname is the
 * node's name: hostNetwork pods share their node's UTS namespace (containerd's), and a server
 * among them that answers its hostname must answer the node's name, as on a real node. Reported by PID and start time before anything waits
 * on it, so lab.json names it even if the supervisor dies mid-start; stopped by that ref only.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import type { Logger } from 'pino';
import { lastLines, logSize } from '../control-plane/index.js';
import { LabError } from '../errors.js';
import { netnsPath } from '../netns.js';
import { isRunning, refOf, sleep, terminate, type ProcessRef } from '../processes.js';

export interface NodeProcessSpec {
  /** "containerd", "kubelet": names it in logs and errors. */
  readonly what: string;
  readonly node: string;
  readonly netns: string;
  readonly binary: string;
  readonly args: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  readonly logFile: string;
  readonly ready: () => Promise<boolean>;
  readonly timeoutMs: number;
  readonly logger: Logger;
  readonly onProcess: (ref: ProcessRef | undefined) => void;
}

/** A command prefix: a new UTS namespace named `hostname`, then exec of the rest (no hostname(1) needed). */
export function ownHostname(hostname: string): string[] {
  return ['unshare', '--uts', '--', 'sh', '-c', 'printf %s "$0" > /proc/sys/kernel/hostname && exec "$@"', hostname];
}

export class NodeProcess {
  private exit: string | undefined;

  private constructor(
    private readonly spec: NodeProcessSpec,
    readonly ref: ProcessRef,
    private readonly logStart: number,
  ) {}

  static async start(spec: NodeProcessSpec): Promise<NodeProcess> {
    const started = Date.now();
    const logStart = logSize(spec.logFile);
    const log = openSync(spec.logFile, 'a');
    // nsenter, unshare and sh each exec the next, so the PID is the daemon's own.
    const child = spawn('nsenter', [`--net=${netnsPath(spec.netns)}`, '--', ...ownHostname(spec.node), spec.binary, ...spec.args], {
      stdio: ['ignore', log, log],
      env: spec.env,
      cwd: '/',
    });
    closeSync(log);
    const ref = child.pid !== undefined ? refOf(child.pid) : undefined;
    if (!ref) throw new LabError('system', `${spec.what} of node ${spec.node} did not start (${spec.binary})`);
    spec.onProcess(ref);
    const proc = new NodeProcess(spec, ref, logStart);
    child.on('exit', (code, signal) => {
      proc.exit = signal ? `was killed by ${signal}` : `exited with code ${code}`;
    });
    try {
      await proc.waitReady();
    } catch (error) {
      await proc.stop(0);
      throw error;
    }
    spec.logger.info({ node: spec.node, what: spec.what, pid: ref.pid, ms: Date.now() - started }, 'node daemon ready');
    return proc;
  }

  private async waitReady(): Promise<void> {
    const { spec } = this;
    const deadline = Date.now() + spec.timeoutMs;
    for (;;) {
      const tail = () => `; last lines of ${spec.logFile}:\n${lastLines(spec.logFile, 20, this.logStart)}`;
      if (this.exit) throw new LabError('system', `${spec.what} of node ${spec.node} ${this.exit} while starting${tail()}`);
      if (await spec.ready().catch(() => false)) return;
      if (Date.now() >= deadline)
        throw new LabError('timeout', `${spec.what} of node ${spec.node} not ready within ${spec.timeoutMs} ms${tail()}`);
      await sleep(100);
    }
  }

  isRunning(): boolean {
    return isRunning(this.ref);
  }

  async stop(graceMs = 3000): Promise<void> {
    const left = await terminate([this.ref], graceMs);
    if (left.length > 0)
      throw new LabError('leftovers', `${this.spec.what} of node ${this.spec.node} (pid ${this.ref.pid}) survived SIGKILL`);
    this.spec.onProcess(undefined);
  }
}
