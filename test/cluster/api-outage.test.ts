// The lab on a real control plane through API server trouble, end to end with agent processes:
//  1. kube-apiserver stopped for 30 s while a pod keeps connecting: every connect is answered by
//     the same near pod, every agent says on /readyz that it is unready and why, and once the
//     apiserver is back the agents are ready again and follow the next change (a failover).
//  2. An agent frozen (SIGSTOP) across an apiserver restart, a Node relabel and an etcd
//     compaction: thawed, it resumes its watches from resourceVersions etcd no longer has, gets
//     410 Gone, relists (nearby_watch_relists_total), and its maps converge.
//  3. The new `control-plane` request is refused by a file-backed lab, which has no apiserver.
// Needs root, bpffs, `make build` and `make control-plane`; fails, never skips, without them.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labUp, readRecord, type LabClient, type LabRecord, type NodeStatus } from '../../lab/index.js';
import { isRunning, type ProcessRef } from '../../lab/primitives.js';
import { assertLabPrereqs, curlAttempts, downExpectingNothingLeft, outcomes, sample } from '../e2e/lab-fixture.js';
import {
  closestAddresses,
  metricValue,
  pacedCurlScript,
  parseTimedCurls,
  pinnedService,
  readyz,
  tierAddresses,
  type ReadyzAnswer,
} from './lab-probes.js';
import { ifSetUp } from '../fixtures/if-set-up.js';

const NAME = `e2e-outage-${process.pid}`;
const NS = 'sample';
const WORKER = `${NAME}-worker`;
const WORKER2 = `${NAME}-worker2`;
const WORKER3 = `${NAME}-worker3`;
const HELLO = 'http://helloworld:5000/hello';
const OUTAGE_MS = 30_000;
/** The lab runs agents with default flags: reconnects back off from 1 s doubling to 30 s, +20 % jitter. */
const READY_AGAIN_TIMEOUT_MS = 90_000;
const LOCALITIES: ReadonlyArray<[string, string, string]> = [
  [WORKER, 'zone1', 'subzone1'],
  [WORKER2, 'zone1', 'subzone2'],
  [WORKER3, 'zone2', 'subzone3'],
];

let lab: LabClient;
let record: LabRecord | undefined;
let sleepPod: string;
let vip: string;
let scratch: string;
let loop: Promise<unknown> | undefined;
/** An agent this file froze, to thaw whatever happens. */
let frozen: number | undefined;
/** Every control-plane process lab.json ever named, restarts included: none may outlive lab down. */
const controlPlaneRefs = new Map<number, ProcessRef>();

function noteControlPlane(): Record<string, ProcessRef | undefined> {
  const refs = readRecord(lab.paths.record)?.controlPlane ?? {};
  for (const ref of Object.values(refs)) if (ref) controlPlaneRefs.set(ref.pid, ref);
  return refs;
}

async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs: number, pollMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

function progress(file: string): number {
  try {
    return Number(readFileSync(file, 'utf8').trim()) || 0;
  } catch {
    return 0;
  }
}

async function agents(): Promise<readonly NodeStatus[]> {
  const nodes = (await lab.status()).nodes;
  for (const node of nodes) expect(node.agent.port, `agent port of ${node.name}`).toBeDefined();
  return nodes;
}

async function podOf(version: string): Promise<{ name: string; ip?: string }> {
  const [pod] = await lab.pods({ namespace: NS, selector: `version=${version}` });
  if (!pod) throw new Error(`no pod of version ${version}`);
  return pod;
}

beforeAll(async () => {
  await assertLabPrereqs();
  scratch = mkdtempSync(join(tmpdir(), `${NAME}-`));
  // The seed's cluster file, then the demo's steps: label the nodes, then the samples.
  const up = await labUp({ text: sample('kind-cluster.yaml', NAME), name: NAME, namespace: NS, controlPlane: true, timeoutMs: 150_000 });
  lab = up.lab;
  record = readRecord(lab.paths.record);
  noteControlPlane();
  const supervisorLog = readFileSync(join(lab.paths.logDir, 'supervisor.log'), 'utf8');
  const ready = supervisorLog.split('\n').find((line) => line.includes('"msg":"control plane ready"'));
  console.info(
    `lab up --control-plane in ${up.elapsedMs} ms; control plane ready in ${ready ? (JSON.parse(ready) as { ms: number }).ms : '?'} ms of it`,
  );

  for (const [node, zone, subzone] of LOCALITIES) {
    await lab.label(
      node,
      { 'topology.kubernetes.io/region': 'region', 'topology.kubernetes.io/zone': zone, 'topology.kubernetes.io/subzone': subzone },
      { wait: false },
    );
  }
  const files = [
    'helloworld-service.yaml',
    'helloworld-region.zone1.subzone1.yaml',
    'helloworld-region.zone1.subzone2.yaml',
    'helloworld-region.zone2.subzone3.yaml',
    'sleep.yaml',
  ];
  await lab.apply({ text: files.map((file) => sample(file, NAME)).join('---\n') }, { namespace: NS, timeoutMs: 90_000 });
  sleepPod = await lab.podName('app=sleep', NS);
  vip = (await lab.status()).services.find((s) => s.namespace === NS && s.name === 'helloworld')!.clusterIP;
}, 300_000);

afterAll(async () => {
  if (frozen !== undefined) {
    try {
      process.kill(frozen, 'SIGCONT');
    } catch {
      // already gone
    }
  }
  if (scratch) writeFileSync(join(scratch, 'stop'), '');
  await loop?.catch(() => undefined);
  try {
    if (ifSetUp(lab)) noteControlPlane();
    await downExpectingNothingLeft(NAME, lab, record);
    const survivors = [...controlPlaneRefs.values()].filter(isRunning).map((ref) => ref.pid);
    expect(survivors, 'control-plane processes left after lab down').toEqual([]);
  } finally {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  }
}, 120_000);

describe('a lab on a real control plane through API server trouble', () => {
  it('keeps every connect on the near pod through a 30 s apiserver outage; agents say why they are unready, then recover and converge', async () => {
    const near = await podOf('region.zone1.subzone1');
    const nodes = await agents();
    for (const node of nodes) expect(node.agent, `agent of ${node.name} before the outage`).toMatchObject({ ready: true });
    const apiserverBefore = noteControlPlane()['kube-apiserver'];
    expect(apiserverBefore && isRunning(apiserverBefore)).toBe(true);

    const stopFile = join(scratch, 'stop');
    const progressFile = join(scratch, 'progress');
    const script = pacedCurlScript(HELLO, { maxCount: 1000, maxSeconds: 170, intervalS: 0.2, maxTimeS: 3, stopFile, progressFile });
    const running = lab.exec(sleepPod, ['sh', '-c', script], { namespace: NS, timeoutMs: 200_000 });
    loop = running;
    await until('the curl loop to get going', () => (progress(progressFile) >= 10 ? true : undefined), 30_000);

    // The outage: from the moment the stop is asked for until the new apiserver answers /readyz.
    const outageFrom = Date.now();
    const stopped = await lab.controlPlane('stop-apiserver');
    expect(stopped.action).toBe('stop-apiserver');
    expect(isRunning(apiserverBefore!), 'the old apiserver process is gone').toBe(false);
    expect(noteControlPlane()['kube-apiserver'], 'lab.json no longer names a running apiserver').toBeUndefined();

    const samples = new Map<string, ReadyzAnswer[]>(nodes.map((n) => [n.name, []]));
    while (Date.now() - outageFrom < OUTAGE_MS) {
      for (const node of nodes) samples.get(node.name)!.push(await readyz(node.agent.port!));
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const restartAsked = Date.now();
    const started = await lab.controlPlane('start-apiserver');
    const outageTo = Date.now();
    const apiserverAfter = noteControlPlane()['kube-apiserver'];
    expect(apiserverAfter?.pid, 'lab.json names the new apiserver').toBe(started.apiserverPid);
    expect(apiserverAfter!.pid).not.toBe(apiserverBefore!.pid);
    expect(isRunning(apiserverAfter!)).toBe(true);

    // Ready again: each agent's watches reconnect on their own backoff.
    const readyAfterMs: Record<string, number> = {};
    await Promise.all(
      nodes.map(async (node) => {
        await until(
          `agent of ${node.name} ready again`,
          async () => ((await readyz(node.agent.port!)).status === 200 ? true : undefined),
          READY_AGAIN_TIMEOUT_MS,
          200,
        );
        readyAfterMs[node.name] = Date.now() - outageTo;
      }),
    );
    const loopAtReady = progress(progressFile);
    await until('a few curls after the agents are ready', () => (progress(progressFile) >= loopAtReady + 10 ? true : undefined), 30_000);
    writeFileSync(stopFile, '');
    const result = await running;
    expect(result.timedOut).toBe(false);
    const curls = parseTimedCurls(result.stdout);
    const during = curls.filter((c) => c.startMs >= outageFrom && c.startMs <= outageTo);
    console.info(
      `apiserver stopped in ${stopped.ms} ms, out for ${outageTo - outageFrom} ms (restart took ${started.ms} ms, asked at +${restartAsked - outageFrom} ms); ` +
        `${curls.length} curls, ${during.length} during the outage, failures ${curls.filter((c) => c.code !== 0).length}; ` +
        `agents ready again after ${JSON.stringify(readyAfterMs)} ms; outcomes ${JSON.stringify(outcomes(curls))}`,
    );
    for (const [node, answers] of samples) {
      const firstUnready = answers.findIndex((a) => a.status === 503);
      const bodies = [...new Set(answers.map((a) => `${a.status} ${a.body}`))];
      console.info(
        `${node} /readyz during the outage: ${answers.length} samples, first 503 after ${firstUnready < 0 ? '-' : answers[firstUnready]!.atMs - outageFrom} ms; answers: ${bodies.join(' | ')}`,
      );
    }

    // Every connect of the loop, and so every one during the outage, answered by the near pod.
    expect(curls.length).toBe(progress(progressFile));
    expect(during.length, 'connects during the outage').toBeGreaterThanOrEqual(Math.floor(OUTAGE_MS / 1000) * 2);
    expect(
      during.filter((c) => c.code !== 0).map((c) => `${c.code} ${c.connectError}`),
      'failed connects during the outage',
    ).toEqual([]);
    expect(outcomes(curls)).toEqual({ 'region.zone1.subzone1': curls.length });
    expect(new Set(curls.map((c) => c.answer?.instance))).toEqual(new Set([near.name]));

    // Each agent said it was unready, and why, soon after the apiserver went, and stayed so. The
    // first reason is the cut stream of every watch ("Premature close"); once the reconnects are
    // refused, it is the unreachable apiserver, by address.
    const apiserver = /server: (https:\/\/\S+)/.exec(readFileSync((await lab.status()).kubeconfig!, 'utf8'))![1]!;
    const refused = `connect ECONNREFUSED ${new URL(apiserver).host}`;
    for (const [node, answers] of samples) {
      const firstUnready = answers.findIndex((a) => a.status === 503);
      expect(firstUnready, `${node} /readyz went 503: ${JSON.stringify(answers.slice(0, 3))}`).toBeGreaterThanOrEqual(0);
      expect(answers[firstUnready]!.atMs - outageFrom, `${node} unready within 10 s of the stop`).toBeLessThan(10_000);
      const afterwards = answers.slice(firstUnready);
      expect(
        afterwards.filter((a) => a.status !== 503).map((a) => `${a.status} ${a.body}`),
        `${node} stayed unready for the rest of the outage`,
      ).toEqual([]);
      for (const answer of afterwards) {
        expect(answer.body).toMatch(
          /^not ready: .*(watch failed: Premature close|ECONNREFUSED).*; connects keep the last programmed datapath$/,
        );
      }
      const unreachable = afterwards.findIndex((a) => a.body.startsWith('not ready: API server unreachable: '));
      expect(unreachable, `${node} named the unreachable apiserver`).toBeGreaterThanOrEqual(0);
      expect(afterwards[unreachable]!.atMs - afterwards[0]!.atMs, `${node}: from the cut stream to "unreachable"`).toBeLessThan(10_000);
      for (const answer of afterwards.slice(unreachable)) expect(answer.body).toContain(refused);
    }

    // The agents follow the API again: delete the near Deployment, traffic fails over. The pod
    // goes only once the controller manager's garbage collector acts, and its watches back off
    // on their own after the outage (client-go: up to 30 s, jittered up to twice that), so wait
    // for the pod to be gone before lab.wait() judges the datapath: a wait any sooner would see
    // a Deployment gone and its still-ready pod, and call that settled.
    const deleteAt = Date.now();
    await lab.delete('deployment', 'helloworld-region.zone1.subzone1', { namespace: NS, wait: false });
    await until(
      'the near pod to be gone',
      async () => ((await lab.pods({ namespace: NS, selector: 'version=region.zone1.subzone1' })).length === 0 ? true : undefined),
      120_000,
      250,
    );
    const podGoneMs = Date.now() - deleteAt;
    await lab.wait(60_000);
    console.info(
      `after the outage: the deleted Deployment's pod was gone in ${podGoneMs} ms, the lab settled in ${Date.now() - deleteAt} ms`,
    );
    const next = await podOf('region.zone1.subzone2');
    const attempts = await curlAttempts(lab, sleepPod, HELLO, 20);
    expect(outcomes(attempts)).toEqual({ 'region.zone1.subzone2': 20 });
    expect(new Set(attempts.map((a) => a.answer?.instance))).toEqual(new Set([next.name]));
    expect(closestAddresses(pinnedService(lab, WORKER, vip, 5000))).toEqual([next.ip]);
    for (const node of await agents())
      expect(node.agent, `agent of ${node.name}: the same process, not a restart`).toMatchObject({ ready: true, restarts: 0 });
  }, 240_000);

  it('relists after 410 Gone: an agent frozen across an apiserver restart, a change and a compaction converges when thawed', async () => {
    const node = (await agents()).find((n) => n.name === WORKER)!;
    const { pid, port } = node.agent;
    const relistsBefore = await metricValue(port!, 'nearby_watch_relists_total');
    const restartsBefore = await metricValue(port!, 'nearby_watch_restarts_total');
    const near = await podOf('region.zone1.subzone2');
    const far = await podOf('region.zone2.subzone3');
    expect(closestAddresses(pinnedService(lab, WORKER, vip, 5000)), 'before: subzone2 is the closest').toEqual([near.ip]);

    const worker2Tiers = JSON.stringify(tierAddresses(pinnedService(lab, WORKER2, vip, 5000)));

    process.kill(pid!, 'SIGSTOP');
    frozen = pid;
    let revision: number | undefined;
    try {
      // A restart ends the frozen agent's watch connections; the change comes after it, so it
      // cannot reach the agent through an old stream, only through a new watch or a list.
      await lab.controlPlane('stop-apiserver');
      await lab.controlPlane('start-apiserver');
      noteControlPlane();
      // A Node label, which the agent reads as it is: no controller has to act on it first
      // (the controller manager's watches are still backing off from the outage before).
      // worker3 joins the client's own subzone, so its pod becomes the closest endpoint.
      await lab.label(
        WORKER3,
        { 'topology.kubernetes.io/zone': 'zone1', 'topology.kubernetes.io/subzone': 'subzone1' },
        { overwrite: true, wait: false },
      );
      // Every resourceVersion the frozen agent holds is now older than etcd's history.
      revision = (await lab.controlPlane('compact-etcd')).revision;
      expect(revision).toBeGreaterThan(0);
      // The others follow at once; the frozen one still has the old plan, so only the agent
      // itself, once thawed, can fix its maps.
      await until(
        "the agent of worker2 to follow the relabel (worker3's pod moves from its region tier to its zone tier)",
        () => (JSON.stringify(tierAddresses(pinnedService(lab, WORKER2, vip, 5000))) !== worker2Tiers ? true : undefined),
        30_000,
        250,
      );
      expect(closestAddresses(pinnedService(lab, WORKER, vip, 5000)), 'the frozen agent has not reprogrammed').toEqual([near.ip]);
    } finally {
      process.kill(pid!, 'SIGCONT');
      frozen = undefined;
    }
    const thawedAt = Date.now();
    await lab.wait(60_000);
    const convergedMs = Date.now() - thawedAt;
    const relistsAfter = await metricValue(port!, 'nearby_watch_relists_total');
    const restartsAfter = await metricValue(port!, 'nearby_watch_restarts_total');
    console.info(
      `frozen agent (pid ${pid}) thawed: converged in ${convergedMs} ms; nearby_watch_relists_total ${relistsBefore} -> ${relistsAfter}, ` +
        `nearby_watch_restarts_total ${restartsBefore} -> ${restartsAfter} (etcd compacted to revision ${revision})`,
    );

    // The same process relisted (a restarted agent would list afresh, which is not a relist).
    expect((await agents()).find((n) => n.name === WORKER)!.agent).toMatchObject({ pid, ready: true, restarts: 0 });
    expect(relistsAfter, 'nearby_watch_relists_total').toBeGreaterThan(relistsBefore);
    expect(restartsAfter).toBeGreaterThan(restartsBefore);
    // Converged: worker3's pod is now in the client's subzone, and it alone answers.
    expect(closestAddresses(pinnedService(lab, WORKER, vip, 5000))).toEqual([far.ip]);
    const attempts = await curlAttempts(lab, sleepPod, HELLO, 20);
    expect(outcomes(attempts)).toEqual({ 'region.zone2.subzone3': 20 });
    expect(new Set(attempts.map((a) => a.answer?.instance))).toEqual(new Set([far.name]));
  }, 180_000);
});

describe('the control-plane request', () => {
  it('is refused with a usage error when the action is unknown', async () => {
    // The client's types allow no such action; the supervisor must refuse it from a client that does not check.
    await expect(lab.call({ op: 'control-plane', action: 'reboot' as never })).rejects.toMatchObject({
      code: 'usage',
      message: expect.stringMatching(/stop-apiserver, start-apiserver, compact-etcd/) as unknown,
    });
  });

  it('is refused with a usage error by a file-backed lab, which has no apiserver to stop', async () => {
    const name = `e2e-outage-f-${process.pid}`;
    const { lab: fileLab } = await labUp({
      text: 'kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n',
      name,
      timeoutMs: 30_000,
    });
    const fileRecord = readRecord(fileLab.paths.record);
    try {
      await expect(fileLab.controlPlane('stop-apiserver')).rejects.toMatchObject({
        code: 'usage',
        message: expect.stringMatching(/has no real control plane/) as unknown,
      });
      expect((await fileLab.status()).nodes.map((n) => n.agent.ready)).toEqual([true]);
    } finally {
      await downExpectingNothingLeft(name, fileLab, fileRecord);
    }
  }, 60_000);
});
