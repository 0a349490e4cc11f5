/* `lab down`: ends the supervisor and everything it ran, removes what the lab made, checks. */
import { resolveLabName } from './client.js';
import { LabError } from './errors.js';
import { hostEnv } from './host.js';
import { assertLabName } from './layout.js';
import { labExists, teardownLab, type TeardownReport } from './teardown.js';

export interface DownResult extends TeardownReport {
  readonly name: string;
  /** False when there was nothing to remove. */
  readonly existed: boolean;
  readonly elapsedMs: number;
}

/** Throws a 'leftovers' LabError naming what is left if the lab could not be removed completely. */
export async function labDown(options: { name?: string; bpffs?: string } = {}): Promise<DownResult> {
  const started = Date.now();
  const host = hostEnv(options.bpffs);
  const name = resolveLabName(options.name);
  assertLabName(name);
  const existed = await labExists(host, name);
  const report = existed ? await teardownLab(host, name) : { removed: [], remaining: [] };
  if (report.remaining.length > 0) {
    throw new LabError('leftovers', `lab ${name} was not removed completely; left: ${report.remaining.join('; ')}`);
  }
  return { name, existed, ...report, elapsedMs: Date.now() - started };
}
