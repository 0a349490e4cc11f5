/*
 * Removes a lab completely, from its lab.json and from the lab's naming rules, and then checks
 * that nothing is left. The same code serves `lab down` and the leftover cleanup of `lab up`.
 *
 * What it may end: processes it recorded (PID and start time both match) and processes inside
 * the cgroups the lab created. What it may remove: the lab's cgroup subtree, netns and
 * /etc/netns entries named for the lab, its API server's link (named for the lab, with the
 * routing it alone uses), the pin roots its record lists, and its state dir.
 */
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { removeCgroupTree, removeIfEmpty, treePids } from './cgroups.js';
import { LabError, messageOf } from './errors.js';
import type { HostEnv } from './host.js';
import { ETC_NETNS, etcNetnsDir, isLabNetns, labPaths, RUN_BASE, type LabPaths } from './layout.js';
import { deleteNetns, listNetns, netnsPids } from './netns.js';
import { apiLinkRemains, removeApiLink } from './api-link.js';
import { isRunning, refOf, terminate, type ProcessRef } from './processes.js';
import { readRecord, type LabRecord } from './record.js';

export interface TeardownReport {
  /** One line per thing removed. */
  readonly removed: string[];
  /** What is still there afterwards; empty means clean. */
  readonly remaining: string[];
}

function recordedProcesses(record: LabRecord | undefined): ProcessRef[] {
  if (!record) return [];
  return [
    ...(record.supervisor ? [record.supervisor] : []),
    ...(record.prober ? [record.prober] : []),
    ...Object.values(record.controlPlane ?? {}).flatMap((ref) => (ref ? [ref] : [])),
    ...record.nodes.flatMap((n) => (n.agent ? [n.agent] : [])),
    ...record.pods.flatMap((p) => p.processes),
  ];
}

function recordedPinRoots(record: LabRecord | undefined, paths: LabPaths): string[] {
  // Only a pin root directly under <bpffs>/nearby/ is ever removed, whatever the record says.
  return (record?.nodes ?? []).map((n) => n.pinRoot).filter((p) => dirname(p) === paths.pinBase && basename(p) !== '');
}

function etcNetnsEntries(lab: string): string[] {
  try {
    return readdirSync(ETC_NETNS).filter((name) => isLabNetns(lab, name));
  } catch {
    return [];
  }
}

async function labNetns(host: HostEnv, lab: string): Promise<string[]> {
  return (await listNetns(host.ip)).filter((name) => isLabNetns(lab, name));
}

/**
 * Without a record the lab cannot prove a pin root is its own (another agent may serve a node of
 * the same name), so pin roots named like its nodes are reported, never removed.
 */
function unrecordedPinRoots(paths: LabPaths): string[] {
  const node = new RegExp(`^${paths.name}-(control-plane|worker)\\d*$`);
  try {
    return readdirSync(paths.pinBase)
      .filter((name) => node.test(name))
      .map((name) => join(paths.pinBase, name));
  } catch {
    return [];
  }
}

/** What of the lab still exists, one line each. */
export async function whatRemains(host: HostEnv, paths: LabPaths, record: LabRecord | undefined): Promise<string[]> {
  const remaining: string[] = [];
  if (!record)
    for (const pins of unrecordedPinRoots(paths))
      remaining.push(`pins ${pins} (no lab.json says whose; remove it by hand if it is this lab's)`);
  for (const ref of recordedProcesses(record)) if (isRunning(ref)) remaining.push(`process ${ref.pid}`);
  if (existsSync(paths.cgroupRoot)) remaining.push(`cgroup ${paths.cgroupRoot}`);
  for (const netns of await labNetns(host, paths.name)) remaining.push(`netns ${netns}`);
  remaining.push(...(await apiLinkRemains(host.ip, paths.name)));
  for (const entry of etcNetnsEntries(paths.name)) remaining.push(join(ETC_NETNS, entry));
  for (const pins of recordedPinRoots(record, paths)) if (existsSync(pins)) remaining.push(`pins ${pins}`);
  if (existsSync(paths.stateDir)) remaining.push(`state dir ${paths.stateDir}`);
  return remaining;
}

/** True if anything named for this lab exists on the machine. */
export async function labExists(host: HostEnv, name: string): Promise<boolean> {
  const paths = labPaths(name, host.cgroup2, host.bpffs);
  // Pin roots alone do not make a lab: `lab up` refuses those it cannot prove are its own.
  return (await whatRemains(host, paths, undefined)).some((line) => !line.startsWith('pins '));
}

export async function teardownLab(host: HostEnv, name: string, options: { graceMs?: number } = {}): Promise<TeardownReport> {
  const paths = labPaths(name, host.cgroup2, host.bpffs);
  const removed: string[] = [];
  const errors: string[] = [];
  let record: LabRecord | undefined;
  try {
    record = readRecord(paths.record);
  } catch (error) {
    // Everything named for the lab is still removed; only what the record alone can name is not.
    errors.push(messageOf(error));
  }
  const step = async (what: string, action: () => unknown): Promise<void> => {
    try {
      await action();
      removed.push(what);
    } catch (error) {
      errors.push(`${what}: ${messageOf(error)}`);
    }
  };

  // The supervisor first, so it cannot restart what is being ended.
  if (record?.supervisor && isRunning(record.supervisor)) {
    const supervisor = record.supervisor;
    await step(`supervisor ${supervisor.pid}`, async () => {
      const left = await terminate([supervisor], options.graceMs ?? 3000);
      if (left.length > 0) throw new Error('still running after SIGKILL');
    });
  }
  const processes = [
    ...recordedProcesses(record).filter(isRunning),
    ...treePids(paths.cgroupRoot, paths.cgroupRoot).flatMap((pid) => refOf(pid) ?? []),
  ];
  const unique = [...new Map(processes.map((p) => [p.pid, p])).values()];
  if (unique.length > 0) {
    await step(`processes ${unique.map((p) => p.pid).join(',')}`, async () => {
      const left = await terminate(unique, options.graceMs ?? 1000);
      if (left.length > 0) throw new Error(`still running after SIGKILL: ${left.map((p) => p.pid).join(',')}`);
    });
  }
  for (const pins of recordedPinRoots(record, paths)) {
    if (existsSync(pins)) await step(`pins ${pins}`, () => rmSync(pins, { recursive: true, force: true }));
  }
  if (existsSync(paths.cgroupRoot)) await step(`cgroup ${paths.cgroupRoot}`, () => removeCgroupTree(paths.cgroupRoot, paths.cgroupRoot));
  removeIfEmpty(paths.cgroupBase);

  // Before the bridge's netns: deleting that would take the veth but leave its routing behind.
  try {
    removed.push(...(await removeApiLink(host.ip, name)));
  } catch (error) {
    errors.push(`API server link: ${messageOf(error)}`);
  }
  for (const netns of await labNetns(host, name)) {
    // A process the lab did not start may still hold a pod's netns (a shell from ip netns exec);
    // it is named, not killed.
    const holders = (await netnsPids(host.ip, netns).catch(() => [])).filter((pid) => refOf(pid));
    if (holders.length > 0) errors.push(`netns ${netns} is still used by process(es) ${holders.join(',')} that the lab did not start`);
    await step(`netns ${netns}`, () => deleteNetns(host.ip, netns));
  }
  for (const entry of etcNetnsEntries(name)) {
    await step(etcNetnsDir(entry), () => rmSync(etcNetnsDir(entry), { recursive: true, force: true }));
  }
  removeIfEmpty(ETC_NETNS);
  if (existsSync(paths.stateDir)) await step(`state dir ${paths.stateDir}`, () => rmSync(paths.stateDir, { recursive: true, force: true }));
  removeIfEmpty(RUN_BASE);

  const remaining = [...errors, ...(await whatRemains(host, paths, record))];
  return { removed, remaining };
}

/** teardownLab, throwing a 'leftovers' LabError if anything could not be removed. */
export async function teardownLabOrThrow(host: HostEnv, name: string): Promise<TeardownReport> {
  const report = await teardownLab(host, name);
  if (report.remaining.length > 0) {
    throw new LabError('leftovers', `lab ${name} could not be removed completely: ${report.remaining.join('; ')}`);
  }
  return report;
}
