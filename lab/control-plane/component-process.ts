/*
 * One control-plane component as a child process: started with its output in its own log file,
 * reported by PID and start time before anything waits on it (so a crash of the caller mid-start
 * still leaves a ref to clean up), waited on until its health endpoint answers, and stopped by
 * that ref only.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { once } from 'node:events';
import type { Logger } from 'pino';
import { isRunning, refOf, sleep, terminate, waitUntil, type ProcessRef } from '../processes.js';
import { ControlPlaneError, type ControlPlaneComponent } from './errors.js';
import { lastLines, logSize } from './log-tail.js';

export type OnProcess = (component: ControlPlaneComponent, ref: ProcessRef | undefined) => void;

export interface ComponentSpec {
  readonly component: ControlPlaneComponent;
  readonly binary: string;
  readonly args: readonly string[];
  readonly logFile: string;
  readonly cwd: string;
  /** True once the component serves; polled until then. */
  readonly healthy: () => Promise<boolean>;
  readonly startTimeoutMs: number;
  readonly logger: Logger;
  readonly onProcess: OnProcess;
  /** Called when the process exits after it was healthy and without stop() being called. */
  readonly onUnexpectedExit?: (exit: string) => void;
  /** Gives up waiting for health (and ends the process) once aborted: the control plane is stopping. */
  readonly abort?: AbortSignal;
}

/**
 * How to stop: a SIGTERM per entry, each followed by that many milliseconds of waiting, then
 * SIGKILL. The apiserver wants two: the first starts its graceful shutdown, which waits for open
 * watches; the second makes it exit at once.
 */
export type StopPlan = readonly number[];

const POLL_MS = 100;
const KILL_WAIT_MS = 5_000;

/**
 * Only the variables the components need: etcd reads any ETCD_* variable as a flag and the
 * Kubernetes binaries honour KUBECONFIG and GODEBUG, so the caller's environment could change them.
 */
function componentEnv(): NodeJS.ProcessEnv {
  return { PATH: process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin' };
}

function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  return signal ? `was killed by ${signal}` : `exited with code ${code}`;
}

export class ComponentProcess {
  private stopping = false;
  private becameHealthy = false;
  private exit: string | undefined;

  private constructor(
    private readonly spec: ComponentSpec,
    child: ChildProcess,
    readonly ref: ProcessRef,
    private readonly logStart: number,
  ) {
    child.on('exit', (code, signal) => {
      this.exit = describeExit(code, signal);
      // Before it was healthy, start() reports the exit as its own failure.
      if (this.stopping || !this.becameHealthy) return;
      spec.logger.error(
        { component: spec.component, pid: ref.pid, logFile: spec.logFile, exit: this.exit },
        'control-plane component exited unexpectedly',
      );
      spec.onUnexpectedExit?.(this.exit);
    });
  }

  get component(): ControlPlaneComponent {
    return this.spec.component;
  }

  get logFile(): string {
    return this.spec.logFile;
  }

  /** Starts the component and resolves once it is healthy; on failure nothing of it is left running. */
  static async start(spec: ComponentSpec): Promise<ComponentProcess> {
    const started = Date.now();
    const logStart = logSize(spec.logFile);
    const log = openSync(spec.logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(spec.binary, [...spec.args], { stdio: ['ignore', log, log], env: componentEnv(), cwd: spec.cwd });
    } finally {
      closeSync(log);
    }
    if (child.pid === undefined) {
      // A missing or non-executable binary: no process, and the reason comes as an 'error' event.
      const [error] = (await once(child, 'error').catch((reason: unknown) => [reason])) as [Error];
      throw new ControlPlaneError(
        'prereq',
        spec.component,
        `cannot start ${spec.component} (${spec.binary}): ${error.message}`,
        spec.logFile,
        { cause: error },
      );
    }
    const ref = refOf(child.pid);
    if (!ref)
      throw new ControlPlaneError(
        'system',
        spec.component,
        `${spec.component} exited at once; last lines of ${spec.logFile}:\n${lastLines(spec.logFile, 20, logStart)}`,
        spec.logFile,
      );
    spec.onProcess(spec.component, ref);
    const component = new ComponentProcess(spec, child, ref, logStart);
    try {
      await component.waitHealthy();
      component.becameHealthy = true;
    } catch (error) {
      await component.stop([0]);
      throw error;
    }
    spec.logger.info({ component: spec.component, pid: ref.pid, ms: Date.now() - started }, 'control-plane component ready');
    return component;
  }

  private failure(code: 'system' | 'timeout', what: string): ControlPlaneError {
    const { component, logFile } = this.spec;
    return new ControlPlaneError(
      code,
      component,
      `${component} ${what}; last lines of ${logFile}:\n${lastLines(logFile, 20, this.logStart)}`,
      logFile,
    );
  }

  private async waitHealthy(): Promise<void> {
    const deadline = Date.now() + this.spec.startTimeoutMs;
    for (;;) {
      if (this.exit) throw this.failure('system', `${this.exit} while starting`);
      if (this.spec.abort?.aborted)
        throw new ControlPlaneError(
          'usage',
          this.spec.component,
          `start of ${this.spec.component} abandoned: the control plane is stopping`,
          this.spec.logFile,
        );
      if (await this.spec.healthy()) return;
      if (Date.now() >= deadline) throw this.failure('timeout', `was not healthy within ${this.spec.startTimeoutMs} ms`);
      await sleep(POLL_MS);
    }
  }

  isRunning(): boolean {
    return isRunning(this.ref);
  }

  /** Stops the process by its ref; throws if it survives SIGKILL. Safe to call more than once. */
  async stop(plan: StopPlan): Promise<void> {
    this.stopping = true;
    const started = Date.now();
    for (const graceMs of plan) {
      if (!isRunning(this.ref)) break;
      if (graceMs === 0) break;
      try {
        process.kill(this.ref.pid, 'SIGTERM');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
      }
      await waitUntil(() => !isRunning(this.ref), graceMs, 20);
    }
    const survivors = await terminate([this.ref], 0, KILL_WAIT_MS);
    if (survivors.length > 0) {
      throw new ControlPlaneError(
        'leftovers',
        this.spec.component,
        `${this.spec.component} (pid ${this.ref.pid}) survived SIGKILL`,
        this.spec.logFile,
      );
    }
    this.spec.onProcess(this.spec.component, undefined);
    this.spec.logger.info(
      { component: this.spec.component, pid: this.ref.pid, ms: Date.now() - started, exit: this.exit },
      'control-plane component stopped',
    );
  }
}
