/*
 * One real control plane for a test file: binaries from `make control-plane` (a missing build
 * throws ControlPlaneBinariesMissingError, failing every test, never skipping), state and logs in
 * a temp dir, and every process it ever reported (restarts included) remembered, so stop() can end
 * by PID and start time whatever ControlPlane.stop() could not, or a start that failed half-way.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { ControlPlane, resolveControlPlaneBinaries, type ControlPlaneBinaries } from '../../lab/control-plane/index.js';
import { isRunning, terminate, type ProcessRef } from '../../lab/processes.js';

export interface TestControlPlane {
  readonly cp: ControlPlane;
  readonly binaries: ControlPlaneBinaries;
  /** Every process the control plane reported, restarts included. */
  readonly reported: readonly ProcessRef[];
  /** cp.stop(), then whatever is still running by PID, then the temp dir. */
  stop(): Promise<void>;
}

export async function startTestControlPlane(name: string, options: { waitForControllers?: boolean } = {}): Promise<TestControlPlane> {
  const binaries = resolveControlPlaneBinaries();
  const tmp = mkdtempSync(join(tmpdir(), `nearby-${name}-`));
  const reported: ProcessRef[] = [];
  const cleanUp = async (): Promise<void> => {
    await terminate(reported.filter(isRunning), 0);
    rmSync(tmp, { recursive: true, force: true });
  };
  const logger = pino({ level: 'info' }, pino.destination({ dest: join(tmp, 'test.log'), sync: true, mkdir: true }));
  const started = performance.now();
  let cp: ControlPlane;
  try {
    cp = await ControlPlane.start({
      dir: join(tmp, 'cp'),
      logDir: join(tmp, 'logs'),
      logger,
      binaries,
      ...options,
      onProcess: (_component, ref) => ref && reported.push(ref),
    });
  } catch (error) {
    await cleanUp();
    throw error;
  }
  console.info(`control plane started in ${Math.round(performance.now() - started)} ms at ${cp.server}`);
  return {
    cp,
    binaries,
    reported,
    stop: async () => {
      try {
        await cp.stop();
      } finally {
        await cleanUp();
      }
    },
  };
}
