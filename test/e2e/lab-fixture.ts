/*
 * Shared pieces of the lab e2e tests: the seed's sample manifests bound to a test lab's node
 * names, locality labels as Node manifests, bringing a lab up and down, curl from a pod, and a
 * check that a lab left nothing behind, looking at the machine itself rather than at what the
 * lab says.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { expect } from 'vitest';
import {
  apiHostDevice,
  hostEnv,
  isLabNetns,
  labDown,
  labPaths,
  labUp,
  listLabs,
  readRecord,
  type DownResult,
  type LabClient,
  type LabRecord,
  type UpOptions,
} from '../../lab/index.js';
import { assertBuilt } from '../../lab/programs.js';
import { isRunning } from '../../lab/primitives.js';
import { nodeYaml } from '../fixtures/manifests.js';
import { criNamespaceCgroups } from './cgroup-roots.js';

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
  return readFileSync(join(SAMPLES, file), 'utf8')
    .replaceAll('ambient-', `${lab}-`)
    .replace(/^name: ambient$/m, `name: ${lab}`);
}

/** The seed's three workers: region/zone1/subzone1, region/zone1/subzone2, region/zone2/subzone3. */
export function seedLocalities(lab: string): string {
  return [
    nodeYaml(`${lab}-worker`, 'region', 'zone1', 'subzone1'),
    nodeYaml(`${lab}-worker2`, 'region', 'zone1', 'subzone2'),
    nodeYaml(`${lab}-worker3`, 'region', 'zone2', 'subzone3'),
  ].join('---\n');
}

/** The seed's cluster: three labelled workers, a helloworld per worker, sleep on worker 1, a PreferClose Service. */
export function seedLab(lab: string): string {
  return [
    sample('kind-cluster.yaml', lab),
    seedLocalities(lab),
    sample('helloworld-service.yaml', lab),
    sample('helloworld-region.zone1.subzone1.yaml', lab),
    sample('helloworld-region.zone1.subzone2.yaml', lab),
    sample('helloworld-region.zone2.subzone3.yaml', lab),
    sample('sleep.yaml', lab),
  ].join('---\n');
}

export interface LabWithSleep {
  readonly lab: LabClient;
  /** The lab record right after lab up, for a teardown check should the lab's own be gone. */
  readonly record: LabRecord | undefined;
  /** The pod of the sample's sleep Deployment, where the tests curl from. */
  readonly sleepPod: string;
  readonly elapsedMs: number;
}

/**
 * Checks the prerequisites (assertLabPrereqs), brings the lab up from `text` with namespace
 * sample as the default, and finds its sleep pod. Without `name`, the kind Cluster's name is used.
 */
export async function upLabWithSleep(options: {
  text: string;
  name?: string;
  timeoutMs: number;
  controlPlane?: boolean;
  prometheus?: boolean;
  mapSizes?: UpOptions['mapSizes'];
}): Promise<LabWithSleep> {
  await assertLabPrereqs();
  const { lab, elapsedMs } = await labUp({ ...options, namespace: 'sample' });
  const record = readRecord(lab.paths.record);
  const sleepPod = await lab.podName('app=sleep', 'sample');
  return { lab, record, sleepPod, elapsedMs };
}

/**
 * lab down, then the machine itself must hold nothing of the lab. Judged by the latest record:
 * agents or pods replaced during the run are in it, the first ones are not.
 */
/**
 * How long a real-node lab's teardown may take in afterAll. Each node's containerd holds the
 * lab's unpacked images, and removing them on a loaded 2-core machine took 60–200 s (a 60 s
 * bound failed two files of a fresh-clone run, and the next file's lab then met the half-torn
 * one).
 */
export const REAL_NODE_LAB_DOWN_MS = 300_000;

export async function downExpectingNothingLeft(
  name: string,
  lab: LabClient | undefined,
  record: LabRecord | undefined,
): Promise<DownResult> {
  const last = (lab ? readRecord(lab.paths.record) : undefined) ?? record;
  const down = await labDown({ name });
  expect(down.remaining).toEqual([]);
  if (last) expect(leftoversOf(name, last)).toEqual([]);
  expect(processesInLabCgroups(name)).toEqual([]);
  // Real nodes run containerd: none of their containers may leave a cgroup outside the lab's tree.
  if (last?.nodes.some((n) => n.daemons)) expect(criNamespaceCgroups(), 'cgroups left at the top of a hierarchy').toEqual([]);
  return down;
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

function hostLinkExists(device: string): boolean {
  const links = JSON.parse(execFileSync(hostEnv().ip, ['-j', 'link', 'show'], { encoding: 'utf8' })) as Array<{ ifname?: string }>;
  return links.some((l) => l.ifname === device);
}

/** Everything of the lab that still exists on the machine, one line each (empty = clean). */
export function leftoversOf(name: string, record: LabRecord): string[] {
  const host = hostEnv();
  const paths = labPaths(name, host.cgroup2, host.bpffs);
  const left: string[] = [];
  for (const netns of ipNetnsList()) if (isLabNetns(name, netns)) left.push(`netns ${netns}`);
  if (hostLinkExists(apiHostDevice(name))) left.push(`link ${apiHostDevice(name)}`);
  if (existsSync(paths.cgroupRoot)) left.push(`cgroup ${paths.cgroupRoot}`);
  for (const node of record.nodes) if (existsSync(node.pinRoot)) left.push(`pins ${node.pinRoot}`);
  if (existsSync('/etc/netns'))
    for (const entry of readdirSync('/etc/netns')) if (isLabNetns(name, entry)) left.push(`/etc/netns/${entry}`);
  if (existsSync(paths.stateDir)) left.push(`state dir ${paths.stateDir}`);
  const refs = [
    record.supervisor,
    record.prober,
    ...Object.values(record.controlPlane ?? {}),
    ...record.nodes.map((n) => n.agent),
    ...record.pods.flatMap((p) => p.processes),
  ];
  const pids = refs.map((r) => r?.pid).filter((pid): pid is number => pid !== undefined);
  for (const pid of pids) {
    const recorded = refs.find((r) => r?.pid === pid);
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
        return readFileSync(`/proc/${pid}/cgroup`, 'utf8')
          .split('\n')
          .some((l) => l.startsWith('0::') && l.includes(marker));
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** One curl from a pod, as the seed's reader would judge it. */
export interface CurlAttempt {
  /** curl's exit code: 0 answered, 7 could not connect, 28 timed out. */
  readonly code: number;
  /** Wall time of the whole curl process, from the pod's shell. */
  readonly ms: number;
  /** The connect error `curl -v` named (Connection refused, Network is unreachable, ...), or ''. */
  readonly connectError: string;
  readonly body: string;
  /** The helloworld answer "Hello version: V, instance: I", if that is what came back. */
  readonly answer?: { readonly version: string; readonly instance: string };
}

export interface CurlLoopOptions {
  readonly maxTimeS?: number;
  /** The loop stops early once this file exists (for loops that must outlast an event). */
  readonly stopFile?: string;
  /** Rewritten with the number of curls done after each one, to follow a running loop. */
  readonly progressFile?: string;
}

/**
 * A shell loop of up to `count` curls, one tab-separated line each: exit code, milliseconds,
 * connect error, body. One exec for the whole loop: a process spawn per curl through the lab
 * would cost more than the curls on a loaded machine. The grep only runs for failures, which
 * keeps successful curls back to back.
 */
export function curlLoopScript(url: string, count: number, options: CurlLoopOptions = {}): string {
  const stop = options.stopFile ? ` && [ ! -e '${options.stopFile}' ]` : '';
  const progress = options.progressFile ? ` echo "$i" > '${options.progressFile}';` : '';
  return [
    `err=$(mktemp); i=0;`,
    `while [ "$i" -lt ${count} ]${stop}; do i=$((i + 1));`,
    `s=$(date +%s%N); body=$(curl -sS -v --max-time ${options.maxTimeS ?? 3} '${url}' 2>"$err"); rc=$?; e=$(date +%s%N);`,
    `why=''; if [ "$rc" -ne 0 ]; then why=$(grep -oE 'Connection refused|Network is unreachable|No route to host|Connection timed out|Operation timed out|Connection reset by peer' "$err" | head -n 1); fi;`,
    `printf '%s\\t%s\\t%s\\t%s\\n' "$rc" "$(( (e - s) / 1000000 ))" "$why" "$body";${progress}`,
    `done; rm -f "$err"`,
  ].join(' ');
}

const HELLO_ANSWER = /^Hello version: (.*), instance: (.*)$/;

export function parseCurlLines(stdout: string): CurlAttempt[] {
  return stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const [code = '', ms = '', connectError = '', ...rest] = line.split('\t');
      const body = rest.join('\t');
      const m = code === '0' ? HELLO_ANSWER.exec(body) : null;
      return { code: Number(code), ms: Number(ms), connectError, body, ...(m ? { answer: { version: m[1]!, instance: m[2]! } } : {}) };
    });
}

/** `count` curls from a pod of namespace sample, each with its outcome; throws if any line is missing. */
export async function curlAttempts(
  lab: LabClient,
  pod: string,
  url: string,
  count: number,
  options: CurlLoopOptions = {},
): Promise<CurlAttempt[]> {
  const r = await lab.exec(pod, ['sh', '-c', curlLoopScript(url, count, options)], {
    namespace: 'sample',
    timeoutMs: count * ((options.maxTimeS ?? 3) * 1000 + 500) + 10_000,
  });
  const attempts = parseCurlLines(r.stdout);
  if (attempts.length !== count)
    throw new Error(
      `expected ${count} curl lines from ${pod}, got ${attempts.length} (exit ${r.code}): ${r.stderr}${r.stdout.slice(-500)}`,
    );
  return attempts;
}

/** A failed curl as the seed's reader would name it: curl's exit code and connect error. */
function failureOf(attempt: CurlAttempt): string {
  return `exit ${attempt.code}${attempt.connectError ? ` (${attempt.connectError})` : ''}`;
}

/** How many attempts each outcome had: the version that answered, or curl's exit code and connect error. */
export function outcomes(attempts: readonly CurlAttempt[]): Record<string, number> {
  return tally(attempts.map((a) => a.answer?.version ?? failureOf(a)));
}

/** How many attempts got each exact response body; a failed curl counts under its exit code and connect error. */
export function bodies(attempts: readonly CurlAttempt[]): Record<string, number> {
  return tally(attempts.map((a) => (a.code === 0 ? a.body : failureOf(a))));
}

/** An HTTPS answer of the lab's API server as a pod gets it: curl's exit code, the HTTP status, the body. */
export interface ApiAnswer {
  readonly code: number;
  readonly status: number;
  readonly body: string;
  readonly stderr: string;
}

/**
 * From a pod, GET `path` at the `kubernetes` Service (`vip`, 10.96.0.1 with kind's Service range)
 * on 443, with the TLS handshake verified against the lab's own CA and the VIP as the name, as an
 * in-cluster client does: only that lab's real API server can answer it.
 */
export async function apiServerFromPod(lab: LabClient, pod: string, path: string, vip = '10.96.0.1'): Promise<ApiAnswer> {
  const ca = join(lab.paths.stateDir, 'control-plane', 'pki', 'ca.crt');
  const r = await lab.exec(pod, ['curl', '-sS', '--max-time', '5', '--cacert', ca, '-w', '\\n%{http_code}', `https://${vip}${path}`], {
    namespace: 'sample',
    timeoutMs: 20_000,
  });
  const cut = r.stdout.lastIndexOf('\n');
  return { code: r.code, status: Number(r.stdout.slice(cut + 1)), body: r.stdout.slice(0, Math.max(cut, 0)), stderr: r.stderr };
}
