/*
 * `lab down`: ends the supervisor and everything it ran, removes what the lab made, checks. A lab
 * that is one cluster of a set (lab-set.ts) takes the whole set down with it.
 */
import { resolveLabName } from './client.js';
import { LabError } from './errors.js';
import { hostEnv } from './host.js';
import { readLabSet } from './lab-set.js';
import { assertLabName } from './layout.js';
import { labExists, teardownLab, type TeardownReport } from './teardown.js';

export interface DownResult extends TeardownReport {
  readonly name: string;
  /** Every lab removed: the lab, or all clusters of its set. */
  readonly names: readonly string[];
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
  const names = readLabSet(name)?.clusters ?? [name];
  const removed: string[] = [];
  const remaining: string[] = [];
  let existed = false;
  for (const member of names.includes(name) ? names : [name, ...names]) {
    assertLabName(member);
    if (!(await labExists(host, member))) continue;
    existed = true;
    const report = await teardownLab(host, member);
    removed.push(...report.removed);
    remaining.push(...report.remaining.map((r) => (names.length > 1 ? `${member}: ${r}` : r)));
  }
  if (remaining.length > 0) {
    throw new LabError('leftovers', `lab ${names.join(', ')} was not removed completely; left: ${remaining.join('; ')}`);
  }
  return { name, names, existed, removed, remaining, elapsedMs: Date.now() - started };
}
