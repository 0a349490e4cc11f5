/*
 * Shared pieces of the lab e2e tests: the seed's sample manifests bound to a test lab's node
 * names, locality labels as Node manifests, curl from a pod, and a check that a lab left
 * nothing behind, looking at the machine itself rather than at what the lab says.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { hostEnv, isLabNetns, labDown, labPaths, listLabs, readRecord, type LabClient, type LabRecord } from '../../pkg/lab/index.js';
import { assertBuilt } from '../../pkg/lab/programs.js';
import { isRunning } from '../../pkg/lab/processes.js';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const SAMPLES = join(ROOT, 'deploy/samples');

/**
 * Fails (never skips) naming what is missing: root, cgroup2, bpffs, ip, a current build. Then
 * removes the labs of earlier test runs that died (their names carry a dead test's PID, so no
 * later run would reuse and so clean them).
 */
export async function assertLabPrereqs(): Promise<void> {
  hostEnv();
  assertBuilt();
  for (const name of listLabs().filter((n) => n.startsWith('e2e-'))) {
    const record = readRecord(labPaths(name, hostEnv().cgroup2, hostEnv().bpffs).record);
    if (record?.supervisor && isRunning(record.supervisor)) continue;
    const removed = await labDown({ name });
    console.warn(`removed lab ${name} left by an earlier test run: ${removed.removed.join(', ')}`);
  }
}

/** A sample file with the seed's cluster name "ambient" replaced by the test lab's name. */
export function sample(file: string, lab: string): string {
  return readFileSync(join(SAMPLES, file), 'utf8').replaceAll('ambient-', `${lab}-`).replace(/^name: ambient$/m, `name: ${lab}`);
}

export function nodeLabels(node: string, region: string, zone: string, subzone: string): string {
  return `apiVersion: v1
kind: Node
metadata:
  name: ${node}
  labels:
    topology.kubernetes.io/region: ${region}
    topology.kubernetes.io/zone: ${zone}
    topology.kubernetes.io/subzone: ${subzone}
`;
}

/** The seed's three workers: region/zone1/subzone1, region/zone1/subzone2, region/zone2/subzone3. */
export function seedLocalities(lab: string): string {
  return [
    nodeLabels(`${lab}-worker`, 'region', 'zone1', 'subzone1'),
    nodeLabels(`${lab}-worker2`, 'region', 'zone1', 'subzone2'),
    nodeLabels(`${lab}-worker3`, 'region', 'zone2', 'subzone3'),
  ].join('---\n');
}

/** Runs `curl ARGS` in the sleep pod `count` times in one exec; returns one line per attempt. */
export async function curlLoop(lab: LabClient, pod: string, url: string, count: number): Promise<string[]> {
  const script = `for i in $(seq ${count}); do curl -sS --max-time 2 ${url} 2>&1 || echo "curl-exit-$?"; done`;
  const r = await lab.exec(pod, ['sh', '-c', script], { namespace: 'sample', timeoutMs: 30_000 });
  return r.stdout.split('\n').filter((l) => l !== '');
}

export function tally(lines: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const line of lines) counts[line] = (counts[line] ?? 0) + 1;
  return counts;
}

function ipNetnsList(): string[] {
  return execFileSync(hostEnv().ip, ['netns', 'list'], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.trim().split(' ')[0] ?? '')
    .filter(Boolean);
}

/** Everything of the lab that still exists on the machine, one line each (empty = clean). */
export function leftoversOf(name: string, record: LabRecord): string[] {
  const host = hostEnv();
  const paths = labPaths(name, host.cgroup2, host.bpffs);
  const left: string[] = [];
  for (const netns of ipNetnsList()) if (isLabNetns(name, netns)) left.push(`netns ${netns}`);
  if (existsSync(paths.cgroupRoot)) left.push(`cgroup ${paths.cgroupRoot}`);
  for (const node of record.nodes) if (existsSync(node.pinRoot)) left.push(`pins ${node.pinRoot}`);
  if (existsSync('/etc/netns')) for (const entry of readdirSync('/etc/netns')) if (isLabNetns(name, entry)) left.push(`/etc/netns/${entry}`);
  if (existsSync(paths.stateDir)) left.push(`state dir ${paths.stateDir}`);
  const pids = [
    record.supervisor?.pid,
    record.prober?.pid,
    ...record.nodes.map((n) => n.agent?.pid),
    ...record.pods.flatMap((p) => p.processes.map((q) => q.pid)),
  ].filter((pid): pid is number => pid !== undefined);
  for (const pid of pids) {
    const recorded = [record.supervisor, record.prober, ...record.nodes.map((n) => n.agent), ...record.pods.flatMap((p) => p.processes)].find((r) => r?.pid === pid);
    if (!existsSync(`/proc/${pid}/stat`)) continue;
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[19] === recorded?.startTime && fields[0] !== 'Z') left.push(`process ${pid}`);
  }
  return left;
}

/**
 * Alive and not a zombie. A zombie has exited; it only waits for its parent to reap it, and an
 * orphan's parent is init, which in some sandboxes never reaps.
 */
export function isLiveProcess(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Live processes whose /proc/<pid>/cgroup puts them in the lab's cgroup subtree. */
export function processesInLabCgroups(name: string): number[] {
  const marker = `/nearby-lab/${name}/`;
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d) && isLiveProcess(Number(d)))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').some((l) => l.startsWith('0::') && l.includes(marker));
      } catch {
        return false;
      }
    })
    .map(Number);
}
