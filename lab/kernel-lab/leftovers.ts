/**
 * Finding and removing what crashed runs left behind. A resource is a leftover when the PID in
 * its name is no longer alive; resources of live PIDs (this process, or another test process
 * running now) are never touched.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { cgroupBase, cgroupTreePids, removeCgroupTree } from './cgroups.js';
import { deleteNetns, listNetns, netnsPids } from './netns.js';
import { ownerOfCgroupDirName, ownerOfPrefixedName } from './names.js';
import { listHarnessPinRoots, removePinRoot } from './pins.js';
import { isLivePid, terminatePids } from '../processes.js';

export type ResourceKind = 'netns' | 'cgroup' | 'pins';

export interface HarnessResource {
  kind: ResourceKind;
  /** The netns name, or the absolute path of the cgroup directory or pin root. */
  name: string;
  ownerPid: number;
  ownerAlive: boolean;
}

function resource(kind: ResourceKind, name: string, ownerPid: number | undefined): HarnessResource[] {
  return ownerPid === undefined ? [] : [{ kind, name, ownerPid, ownerAlive: isLivePid(ownerPid) }];
}

function labCgroupDirs(): string[] {
  try {
    return readdirSync(cgroupBase(), { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** Everything on this machine named by the harness, live or not. */
export async function harnessResources(): Promise<HarnessResource[]> {
  return [
    ...(await listNetns()).flatMap((name) => resource('netns', name, ownerOfPrefixedName(name))),
    ...labCgroupDirs().flatMap((dir) => resource('cgroup', join(cgroupBase(), dir), ownerOfCgroupDirName(dir))),
    ...listHarnessPinRoots().flatMap((path) => resource('pins', path, ownerOfPrefixedName(path.split('/').pop() ?? ''))),
  ];
}

/** Resources whose creating process is gone: what cleanupLeftovers() would remove. */
export async function leftovers(): Promise<HarnessResource[]> {
  return (await harnessResources()).filter((r) => !r.ownerAlive);
}

/**
 * Removes every leftover: first the processes still inside (they were started by the dead run
 * and would keep namespaces and cgroups busy), then pins, cgroups, and namespaces. Returns what
 * it removed, one line each; throws if something could not be removed.
 */
export async function cleanupLeftovers(): Promise<string[]> {
  const found = await leftovers();
  const removed: string[] = [];
  const errors: Error[] = [];
  const attempt = async (what: string, action: () => Promise<void> | void): Promise<void> => {
    try {
      await action();
      removed.push(what);
    } catch (err) {
      errors.push(new Error(`${what}: ${err instanceof Error ? err.message : String(err)}`));
    }
  };
  const ofKind = (kind: ResourceKind) => found.filter((r) => r.kind === kind).map((r) => r.name);

  for (const netns of ofKind('netns')) {
    const pids = await netnsPids(netns).catch(() => []);
    if (pids.length > 0) await attempt(`processes ${pids.join(',')} in netns ${netns}`, () => terminatePids(pids));
  }
  for (const cgroup of ofKind('cgroup')) {
    const pids = cgroupTreePids(cgroup);
    if (pids.length > 0) await attempt(`processes ${pids.join(',')} in cgroup ${cgroup}`, () => terminatePids(pids));
  }
  for (const pins of ofKind('pins')) await attempt(`pins ${pins}`, () => removePinRoot(pins));
  for (const cgroup of ofKind('cgroup')) await attempt(`cgroup ${cgroup}`, () => removeCgroupTree(cgroup));
  for (const netns of ofKind('netns')) await attempt(`netns ${netns}`, () => deleteNetns(netns));

  if (errors.length > 0) {
    throw new AggregateError(errors, `leftover cleanup incomplete: ${errors.map((e) => e.message).join('; ')}`);
  }
  return removed;
}

let onceThisProcess: Promise<string[]> | undefined;

/** Runs cleanupLeftovers() the first time a lab is created in this process, and reports it. */
export function cleanupLeftoversOnce(): Promise<string[]> {
  onceThisProcess ??= cleanupLeftovers().then((removed) => {
    if (removed.length > 0) {
      console.warn(`nearby test harness removed leftovers of crashed runs:\n  ${removed.join('\n  ')}`);
    }
    return removed;
  });
  return onceThisProcess;
}
