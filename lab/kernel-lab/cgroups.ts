/**
 * The harness's cgroup v2 subtree, <cgroup2>/nearby-test/. Everything here refuses to act on a
 * path outside that subtree, so a bug cannot touch the machine's own cgroups.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { assertInside, removeCgroupTree as removeEmptiedCgroupTree, treePids } from '../cgroups.js';
import { terminatePids } from '../processes.js';
import { CGROUP_BASE_DIR } from './names.js';
import { kernelEnv } from './prereqs.js';

/** How long removal waits for a cgroup whose processes were just killed to become removable. */
const RMDIR_RETRY_MS = 5000;

export function cgroupBase(): string {
  return join(kernelEnv().cgroup2, CGROUP_BASE_DIR);
}

/** Strictly below the base: the base itself is shared by every kernel lab on the machine. */
function assertInsideBase(path: string): void {
  if (relative(cgroupBase(), path) === '') throw new Error(`refusing to touch cgroup ${path}: outside ${cgroupBase()}`);
  assertInside(cgroupBase(), path);
}

/** The path /proc/<pid>/cgroup shows ("0::<path>") for a process in this cgroup. */
export function cgroupProcPath(path: string): string {
  return `/${relative(kernelEnv().cgroup2, path)}`;
}

/** The `0::` (cgroup v2) line of /proc/<pid>/cgroup, or undefined if the process is gone. */
export function cgroupOfPid(pid: number): string | undefined {
  try {
    const line = readFileSync(`/proc/${pid}/cgroup`, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('0::'));
    return line?.slice(3);
  } catch {
    return undefined;
  }
}

/**
 * Creates the base on first use (the one write next to the root cgroup's files), then `path`,
 * whose parent must exist. Fails if `path` exists: two owners of one cgroup is a naming bug.
 */
export function createCgroup(path: string): void {
  assertInsideBase(path);
  try {
    mkdirSync(cgroupBase());
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  mkdirSync(path);
}

/** Every process in the subtree. */
export function cgroupTreePids(path: string): number[] {
  assertInsideBase(path);
  return treePids(cgroupBase(), path);
}

/**
 * Kills the subtree's processes by PID, then removes its directories deepest first, retrying
 * for up to RMDIR_RETRY_MS: a killed process leaves its cgroup a moment after it is reaped.
 */
export async function removeCgroupTree(path: string): Promise<void> {
  assertInsideBase(path);
  if (!existsSync(path)) return;
  await terminatePids(cgroupTreePids(path));
  await removeEmptiedCgroupTree(cgroupBase(), path, RMDIR_RETRY_MS);
}
