/*
 * The cgroup v1 side of a real node on a hybrid host (v1 controllers, cgroup2 without them). The
 * kubelet's cgroupfs driver (and runc under it) creates pod cgroups under cgroupRoot in every v1
 * hierarchy, and the kubelet refuses to start unless cgroupRoot already exists in them, so the
 * lab creates <mount>/nearby-lab/<lab>/<node> in each and removes the lab's trees on `lab down`.
 * cpuset needs cpus and mems written before a child can hold a task, so every level copies its
 * parent's. Every path is checked to be inside the lab's own directory of that hierarchy.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { removeCgroupTree, removeIfEmpty, treePids } from '../cgroups.js';
import { CGROUP_BASE_DIR } from '../layout.js';

/** Mount points of cgroup v1 hierarchies (fstype "cgroup"), from /proc/mounts. */
export function cgroupV1Mounts(): string[] {
  return readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .map((line) => line.split(' '))
    .filter((fields) => fields[2] === 'cgroup')
    .map((fields) => fields[1] ?? '')
    .filter((target) => target !== '');
}

/** The lab's directory in one v1 hierarchy: <mount>/nearby-lab/<lab>. */
export function labV1Root(mount: string, lab: string): string {
  return join(mount, CGROUP_BASE_DIR, lab);
}

function inheritCpuset(dir: string, parent: string): void {
  for (const file of ['cpuset.cpus', 'cpuset.mems']) {
    const path = join(dir, file);
    if (!existsSync(path)) continue;
    if (readFileSync(path, 'utf8').trim() === '') writeFileSync(path, readFileSync(join(parent, file), 'utf8').trim());
  }
}

/** Creates `relative` (e.g. nearby-lab/<lab>/<node>) in every v1 hierarchy, level by level. */
export function createV1Cgroups(relative: string): string[] {
  const created: string[] = [];
  for (const mount of cgroupV1Mounts()) {
    let parent = mount;
    for (const part of relative.split('/').filter(Boolean)) {
      const dir = join(parent, part);
      if (!existsSync(dir)) mkdirSync(dir);
      inheritCpuset(dir, parent);
      parent = dir;
    }
    created.push(parent);
  }
  return created;
}

/** Processes still in the lab's v1 cgroups (a container that escaped the cgroup2 tree would be here). */
export function labV1Pids(lab: string): number[] {
  return cgroupV1Mounts().flatMap((mount) => {
    const root = labV1Root(mount, lab);
    return treePids(root, root);
  });
}

/** The lab's v1 directories that exist, for the leftover report. */
export function existingLabV1Roots(lab: string): string[] {
  return cgroupV1Mounts()
    .map((mount) => labV1Root(mount, lab))
    .filter((dir) => existsSync(dir));
}

/** Removes the lab's tree in every v1 hierarchy (its processes already ended), and the shared base if empty. */
export async function removeLabV1Cgroups(lab: string): Promise<string[]> {
  const removed: string[] = [];
  for (const mount of cgroupV1Mounts()) {
    const root = labV1Root(mount, lab);
    if (!existsSync(root)) continue;
    await removeCgroupTree(root, root);
    removed.push(root);
    removeIfEmpty(join(mount, CGROUP_BASE_DIR));
  }
  return removed;
}
