/*
 * The lab's cgroup v2 subtree, <cgroup2>/nearby-lab/<lab>/. Every function refuses a path outside
 * the lab's own directory, so a bug cannot touch the machine's cgroups or another lab's.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { LabError } from './errors.js';
import { sleep } from './processes.js';

/** Throws unless `path` is `root` or inside it. */
export function assertInside(root: string, path: string): void {
  const rel = relative(root, path);
  if (rel.startsWith('..') || rel.startsWith('/')) {
    throw new LabError('system', `refusing to touch cgroup ${path}: outside the lab's ${root}`);
  }
}

/** Creates `path` (and the lab root and the shared base if needed) under `root`. */
export function createCgroup(root: string, path: string): void {
  assertInside(root, path);
  mkdirSync(path, { recursive: true });
}

/** Directories of the subtree, deepest first. */
function subtreeDeepestFirst(path: string): string[] {
  let entries;
  try {
    entries = readdirSync(path, { withFileTypes: true });
  } catch {
    return [];
  }
  const children = entries.filter((e) => e.isDirectory()).flatMap((e) => subtreeDeepestFirst(join(path, e.name)));
  return [...children, path];
}

export function procsOf(path: string): number[] {
  try {
    return readFileSync(join(path, 'cgroup.procs'), 'utf8')
      .split('\n')
      .filter((line) => line !== '')
      .map(Number);
  } catch {
    return [];
  }
}

/** Every process in the subtree. */
export function treePids(root: string, path: string): number[] {
  assertInside(root, path);
  if (!existsSync(path)) return [];
  return subtreeDeepestFirst(path).flatMap(procsOf);
}

/** Moves a process (this one by default) into the cgroup. */
export function moveInto(root: string, path: string, pid = process.pid): void {
  assertInside(root, path);
  writeFileSync(join(path, 'cgroup.procs'), String(pid));
}

/**
 * Removes the subtree deepest first. The caller has ended its processes; rmdir is retried
 * briefly because a killed process leaves its cgroup a moment after it is reaped.
 */
export async function removeCgroupTree(root: string, path: string, timeoutMs = 3000): Promise<void> {
  assertInside(root, path);
  for (const dir of subtreeDeepestFirst(path)) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        rmdirSync(dir);
        break;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') break;
        if (code !== 'EBUSY' || Date.now() > deadline) {
          throw new LabError('leftovers', `cannot remove cgroup ${dir}: ${code}; processes ${procsOf(dir).join(',') || 'none'}`, {
            cause: err,
          });
        }
        await sleep(25);
      }
    }
  }
}

/** rmdir that only succeeds when empty; used for the shared base other labs may still use. */
export function removeIfEmpty(path: string): void {
  try {
    rmdirSync(path);
  } catch {
    // in use by another lab, or already gone
  }
}
