/*
 * A benchmark's own directory on bpffs, named by its PID so that a run never touches another
 * one's pins, and so that what a crashed run left behind (its PID dead) is found and removed
 * before the next run starts.
 */
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { isLivePid } from '../../lab/kernel-lab/index.js';

const BASE = '/sys/fs/bpf/nearby-bench';

export interface PrivatePins {
  readonly dir: string;
  /** Pins of crashed runs that were removed first. */
  readonly removedLeftovers: readonly string[];
  remove(): void;
}

export function privatePins(bench: string): PrivatePins {
  mkdirSync(BASE, { recursive: true });
  const pattern = new RegExp(`^${bench}-(\\d+)$`);
  const removedLeftovers: string[] = [];
  for (const name of readdirSync(BASE)) {
    const owner = pattern.exec(name)?.[1];
    if (owner === undefined || isLivePid(Number(owner))) continue;
    rmSync(join(BASE, name), { recursive: true, force: true });
    removedLeftovers.push(join(BASE, name));
  }
  const dir = join(BASE, `${bench}-${process.pid}`);
  mkdirSync(dir, { recursive: true });
  return { dir, removedLeftovers, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
