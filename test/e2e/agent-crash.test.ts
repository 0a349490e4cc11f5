// An agent crash mid-run (the lab issue's e2e): kill -9 the agent of the sleep pod's node while
// curls run back to back in the pod. The pinned links and maps must keep serving every connect
// without the agent, the supervisor must restart it, and the restarted agent must adopt the
// pinned state (same service id, same backends, counters kept) and then keep the node
// converging: a Deployment deleted after the restart fails over through it.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readRecord, type LabClient, type LabRecord } from '../../lab/index.js';
import { findExecutable, isRunning, type ProcessRef } from '../../lab/primitives.js';
import { PROGRAMS } from '../../lab/programs.js';
import { nodeYaml } from '../fixtures/manifests.js';
import {
  curlAttempts,
  curlLoopScript,
  downExpectingNothingLeft,
  isLiveProcess,
  outcomes,
  parseCurlLines,
  ROOT,
  sample,
  upLabWithSleep,
} from './lab-fixture.js';

const NAME = `e2e-crash-${process.pid}`;
const NODE = `${NAME}-worker`;
const HELLO = 'http://helloworld:5000/hello';
/** Curls before the kill, and after the restarted agent is ready, so the loop spans the whole gap. */
const CURLS_AROUND = 150;
/** A cap on the loop, should the test die before it writes the stop file. */
const MAX_CURLS = 3000;

let lab: LabClient;
let record: LabRecord | undefined;
let sleepPod: string;
let vip: string;
let scratch: string;
let killedPid: number | undefined;
let restartedPid: number | undefined;
let loop: Promise<unknown> | undefined;

interface PinnedService {
  id: number;
  vip: string;
  port: number;
  mode: string;
  tiers: Array<{ endpoints: Array<{ id: number; address: string; port: number; nodeId: number }> }>;
  connects: Array<{ tier: number; attempts: number; established: number; failed: number; refused: number }>;
}

/** The helloworld Service as the node's pinned maps hold it, read by `nearbyctl maps` as an operator would. */
function pinnedHelloworld(): PinnedService {
  const out = execFileSync(
    process.execPath,
    [join(ROOT, 'dist/cmd/nearbyctl.js'), 'maps', '--node', NODE, '--bpffs', lab.host.bpffs, '--json'],
    { encoding: 'utf8', timeout: 15_000 },
  );
  const services = (JSON.parse(out) as { services: PinnedService[] }).services.filter((s) => s.vip === vip && s.port === 5000);
  expect(services, `helloworld ${vip}:5000 in the maps of ${NODE}`).toHaveLength(1);
  return services[0]!;
}

/**
 * Kernel ids of the pinned maps and links of NODE, by pin path. An agent that wiped its node and
 * rebuilt it would create new objects with new ids, even with the same contents.
 */
function pinnedObjectIds(): Record<string, number> {
  const bpftool = findExecutable('bpftool');
  if (!bpftool) throw new Error('bpftool is missing (make apt installs it)');
  const pinRoot = readRecord(lab.paths.record)!.nodes.find((n) => n.name === NODE)!.pinRoot;
  const ids: Record<string, number> = {};
  for (const [dir, kind] of [
    ['maps', 'map'],
    ['links', 'link'],
  ] as const) {
    for (const file of readdirSync(join(pinRoot, dir))) {
      const shown = JSON.parse(execFileSync(bpftool, ['-j', kind, 'show', 'pinned', join(pinRoot, dir, file)], { encoding: 'utf8' })) as {
        id: number;
      };
      ids[`${dir}/${file}`] = shown.id;
    }
  }
  return ids;
}

const sum = (s: PinnedService, field: 'attempts' | 'failed' | 'refused'): number => s.connects.reduce((n, c) => n + c[field], 0);

async function agentOf(node: string) {
  const status = await lab.status();
  const found = status.nodes.find((n) => n.name === node);
  if (!found) throw new Error(`lab ${NAME} has no node ${node}`);
  return found.agent;
}

/**
 * The PID is this lab's agent for NODE and nobody else: the lab record holds it with the same
 * start time (so it is not a reused PID), and its command line is the agent program run for this
 * node on this lab's cluster directory.
 */
function assertAgentOfThisLab(pid: number): ProcessRef {
  const ref = readRecord(lab.paths.record)?.nodes.find((n) => n.name === NODE)?.agent;
  expect(ref?.pid, `lab record's agent of ${NODE}`).toBe(pid);
  expect(isRunning(ref!)).toBe(true);
  const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  expect(argv[1]).toBe(PROGRAMS.agent);
  expect(argv[argv.indexOf('--node-name') + 1]).toBe(NODE);
  expect(argv[argv.indexOf('--state-dir') + 1]).toBe(lab.paths.clusterDir);
  return ref!;
}

function progress(file: string): number {
  try {
    return Number(readFileSync(file, 'utf8').trim()) || 0;
  } catch {
    return 0;
  }
}

async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

beforeAll(async () => {
  const text = [
    'kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n- role: worker\n- role: worker\n',
    nodeYaml(NODE, 'region', 'zone1', 'subzone1'),
    nodeYaml(`${NAME}-worker2`, 'region', 'zone1', 'subzone2'),
    sample('helloworld-service.yaml', NAME),
    sample('helloworld-region.zone1.subzone1.yaml', NAME),
    sample('helloworld-region.zone1.subzone2.yaml', NAME),
    sample('sleep.yaml', NAME),
  ].join('---\n');
  ({ lab, record, sleepPod } = await upLabWithSleep({ text, name: NAME, timeoutMs: 45_000 }));
  vip = (await lab.status()).services.find((s) => s.namespace === 'sample' && s.name === 'helloworld')!.clusterIP;
  scratch = mkdtempSync(join(tmpdir(), `${NAME}-`));
}, 60_000);

afterAll(async () => {
  if (scratch) writeFileSync(join(scratch, 'stop'), '');
  await loop?.catch(() => undefined);
  try {
    await downExpectingNothingLeft(NAME, lab, record);
  } finally {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  }
  for (const pid of [killedPid, restartedPid]) if (pid !== undefined) expect(isLiveProcess(pid), `agent ${pid}`).toBe(false);
});

describe('an agent killed with SIGKILL while curls run', () => {
  it('loses no connect while the agent is dead, is restarted by the supervisor, and adopts the pinned state', async () => {
    const before = await agentOf(NODE);
    expect(before).toMatchObject({ ready: true, restarts: 0 });
    const [local] = await lab.pods({ namespace: 'sample', selector: 'version=region.zone1.subzone1' });
    const objectsBefore = pinnedObjectIds();
    const pinnedBefore = pinnedHelloworld();

    const stopFile = join(scratch, 'stop');
    const progressFile = join(scratch, 'progress');
    const running = lab.exec(sleepPod, ['sh', '-c', curlLoopScript(HELLO, MAX_CURLS, { stopFile, progressFile })], {
      namespace: 'sample',
      timeoutMs: 50_000,
    });
    loop = running;
    await until('the curl loop to get going', () => (progress(progressFile) >= CURLS_AROUND ? true : undefined), 20_000);

    const ref = assertAgentOfThisLab(before.pid!);
    const doneAtKill = progress(progressFile);
    const killedAt = performance.now();
    process.kill(ref.pid, 'SIGKILL');
    killedPid = ref.pid;
    await until('the killed agent to be gone', () => (isLiveProcess(ref.pid) ? undefined : true), 5000);

    const after = await until(
      'the supervisor to restart the agent and the new one to be ready',
      async () => {
        const agent = await agentOf(NODE);
        return agent.ready && agent.pid !== undefined && agent.pid !== ref.pid ? agent : undefined;
      },
      20_000,
    );
    const gapMs = performance.now() - killedAt;
    const doneAtReady = progress(progressFile);
    restartedPid = after.pid;
    expect(after.restarts).toBe(1);
    assertAgentOfThisLab(after.pid!);

    await until('more curls after the restart', () => (progress(progressFile) >= doneAtReady + CURLS_AROUND ? true : undefined), 20_000);
    writeFileSync(stopFile, '');
    const result = await running;
    const attempts = parseCurlLines(result.stdout);
    const inGap = doneAtReady - doneAtKill;
    console.info(
      `${attempts.length} curls; ${inGap} of them between the kill and the restarted agent being ready (${gapMs.toFixed(0)} ms); outcomes ${JSON.stringify(outcomes(attempts))}`,
    );

    expect(result.timedOut).toBe(false);
    expect(attempts.length).toBe(progress(progressFile));
    // The loop really ran while no agent existed, or "no curl failed" would prove nothing.
    expect(inGap, 'curls while the agent was dead or starting').toBeGreaterThanOrEqual(10);
    expect(outcomes(attempts)).toEqual({ 'region.zone1.subzone1': attempts.length });
    expect(new Set(attempts.map((a) => a.answer?.instance))).toEqual(new Set([local?.name]));

    // Adopted, not wiped and rewritten: the same kernel maps and links (by id), the same service
    // id and backends, and the kernel's own counters kept counting across the restart, with no
    // failed or refused connect.
    expect(pinnedObjectIds()).toEqual(objectsBefore);
    const pinnedAfter = pinnedHelloworld();
    expect({ id: pinnedAfter.id, mode: pinnedAfter.mode, tiers: pinnedAfter.tiers }).toEqual({
      id: pinnedBefore.id,
      mode: pinnedBefore.mode,
      tiers: pinnedBefore.tiers,
    });
    expect(sum(pinnedAfter, 'attempts') - sum(pinnedBefore, 'attempts')).toBeGreaterThanOrEqual(attempts.length);
    expect([sum(pinnedAfter, 'failed'), sum(pinnedAfter, 'refused')]).toEqual([sum(pinnedBefore, 'failed'), sum(pinnedBefore, 'refused')]);
  });

  it('converges through the restarted agent: deleting the local Deployment fails over to subzone2', async () => {
    expect(restartedPid, 'the restart of the previous test').toBeDefined();
    const pinnedBefore = pinnedHelloworld();
    // lab.delete returns once every node's maps hold the new plan; only the restarted agent can write them.
    await lab.delete('deployment', 'helloworld-region.zone1.subzone1', { namespace: 'sample', timeoutMs: 20_000 });
    const [next] = await lab.pods({ namespace: 'sample', selector: 'version=region.zone1.subzone2' });
    const attempts = await curlAttempts(lab, sleepPod, HELLO, 30);
    expect(outcomes(attempts)).toEqual({ 'region.zone1.subzone2': 30 });
    expect(new Set(attempts.map((a) => a.answer?.instance))).toEqual(new Set([next?.name]));

    expect(await agentOf(NODE)).toMatchObject({ pid: restartedPid, ready: true, restarts: 1 });
    const pinnedAfter = pinnedHelloworld();
    expect(pinnedAfter.id).toBe(pinnedBefore.id);
    expect(pinnedAfter.tiers.flatMap((t) => t.endpoints.map((e) => e.address))).toEqual([next?.ip]);
  });
});
