/**
 * Smoke test of the kernel test harness itself, with no BPF loaded: the lab must behave like
 * a tiny isolated network where pods answer and everything else is unreachable, and it must
 * leave nothing behind.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assertKernelPrereqs,
  cgroupBase,
  cgroupOfPid,
  cgroupProcPath,
  cleanupLeftovers,
  type Client,
  type ConnectResult,
  isLivePid as isAlive,
  kernelEnv,
  KernelLab,
  leftovers,
  listNetns,
  netnsPath,
  nowMs,
  PIN_BASE,
  type Pod,
  type SimNode,
} from '../../lab/kernel-lab/index.js';
import { ifSetUp } from '../fixtures/if-set-up.js';

const POD_V4 = '10.244.1.10';
const POD_V6 = 'fd00:10:244:1::10';
const VIP_V4 = '10.96.0.10';
const VIP_V6 = 'fd00:10:96::10';
const TCP_PORT = 8080;
const UDP_PORT = 5353;

function summary(results: ConnectResult[]): string {
  return JSON.stringify(results.map(({ ok, answer, errno, peer }) => ({ ok, answer, errno, peer })));
}

function expectAnswers(results: ConnectResult[], count: number, pod: string, peer: { address: string; port: number }): void {
  expect(results, summary(results)).toHaveLength(count);
  for (const r of results) {
    expect(r, summary(results)).toMatchObject({ ok: true, answer: pod, peer });
    expect(r.errno).toBeUndefined();
    expect(r.t1).toBeGreaterThanOrEqual(r.t0);
  }
}

function expectErrno(results: ConnectResult[], errno: string): void {
  expect(results.length, summary(results)).toBeGreaterThan(0);
  for (const r of results) {
    expect(r, summary(results)).toMatchObject({ ok: false, errno });
    expect(r.answer).toBeUndefined();
  }
}

/** A PID that certainly belonged to a process and certainly is dead now. */
async function deadPid(): Promise<number> {
  const child = spawn('true', [], { stdio: 'ignore' });
  await new Promise((resolve) => child.on('exit', resolve));
  if (child.pid === undefined || isAlive(child.pid)) throw new Error('could not get a dead pid');
  return child.pid;
}

describe('kernel test harness', () => {
  let lab: KernelLab;
  let node: SimNode;
  let pod: Pod;
  let client: Client;

  beforeAll(async () => {
    assertKernelPrereqs();
    lab = await KernelLab.create('smoke');
    node = await lab.addNode('n1');
    pod = await lab.addPod(
      'web-a',
      [POD_V4, POD_V6],
      [
        { port: TCP_PORT, proto: 'tcp' },
        { port: UDP_PORT, proto: 'udp' },
      ],
    );
    client = await node.client();
  });

  afterAll(async () => {
    await ifSetUp(lab)?.destroy();
  });

  it('names the node uniquely and does not create its pin root', () => {
    expect(node.nodeName).toBe(`nbt-${process.pid}-smoke-n1`);
    expect(node.pinRoot).toBe(join(PIN_BASE, node.nodeName));
    expect(node.cgroupPath).toBe(join(cgroupBase(), `${process.pid}-smoke`, 'n1'));
    expect(existsSync(node.pinRoot)).toBe(false);
  });

  it('puts the client in the node cgroup and the lab netns', () => {
    expect(cgroupOfPid(client.pid)).toBe(cgroupProcPath(node.cgroupPath));
    expect(cgroupProcPath(node.cgroupPath)).toBe(`/nearby-test/${process.pid}-smoke/n1`);
    expect(statSync(`/proc/${client.pid}/ns/net`).ino).toBe(statSync(netnsPath(lab.netns)).ino);
    expect(statSync(`/proc/${client.pid}/ns/net`).ino).not.toBe(statSync('/proc/self/ns/net').ino);
  });

  it('keeps the lab isolated: only lo, no route out', async () => {
    await expect(lab.assertIsolated()).resolves.toBeUndefined();
  });

  it('TCP over IPv4 and IPv6 reaches the pod and getpeername shows it', async () => {
    expectAnswers(await client.connect({ address: POD_V4, port: TCP_PORT, proto: 'tcp', count: 3 }), 3, 'web-a', {
      address: POD_V4,
      port: TCP_PORT,
    });
    expectAnswers(await client.connect({ address: POD_V6, port: TCP_PORT, proto: 'tcp', count: 3 }), 3, 'web-a', {
      address: POD_V6,
      port: TCP_PORT,
    });
  });

  it('connected and unconnected UDP both get answers, over IPv4 and IPv6', async () => {
    for (const address of [POD_V4, POD_V6]) {
      for (const udp of ['connected', 'unconnected'] as const) {
        const results = await client.connect({ address, port: UDP_PORT, proto: 'udp', udp, count: 2 });
        expectAnswers(results, 2, 'web-a', { address, port: UDP_PORT });
      }
    }
  });

  it('an address nobody owns (a VIP without datapath) fails locally with ENETUNREACH', async () => {
    for (const address of [VIP_V4, VIP_V6]) {
      expectErrno(await client.connect({ address, port: 80, proto: 'tcp', count: 1 }), 'ENETUNREACH');
      expectErrno(await client.connect({ address, port: 53, proto: 'udp', udp: 'connected', count: 1 }), 'ENETUNREACH');
      expectErrno(await client.connect({ address, port: 53, proto: 'udp', udp: 'unconnected', count: 1 }), 'ENETUNREACH');
    }
  });

  it('a stopped pod refuses, and answers again once started', async () => {
    await pod.stop();
    try {
      expectErrno(await client.connect({ address: POD_V4, port: TCP_PORT, proto: 'tcp', count: 2 }), 'ECONNREFUSED');
      expectErrno(await client.connect({ address: POD_V6, port: TCP_PORT, proto: 'tcp', count: 1 }), 'ECONNREFUSED');
      expectErrno(await client.connect({ address: POD_V4, port: UDP_PORT, proto: 'udp', udp: 'connected', count: 1 }), 'ECONNREFUSED');
      // Unconnected UDP never sees the ICMP error: the connect must end by its timeout, not hang.
      const [silent] = await client.connect({
        address: POD_V4,
        port: UDP_PORT,
        proto: 'udp',
        udp: 'unconnected',
        count: 1,
        timeoutMs: 300,
      });
      expect(silent).toMatchObject({ ok: false, errno: 'ETIMEDOUT' });
      expect(silent!.t1 - silent!.t0).toBeGreaterThanOrEqual(290);
    } finally {
      await pod.start();
    }
    expectAnswers(await client.connect({ address: POD_V4, port: TCP_PORT, proto: 'tcp', count: 1 }), 1, 'web-a', {
      address: POD_V4,
      port: TCP_PORT,
    });
  });

  it('a loop is bounded by maxCount and its results are on the test clock', async () => {
    const before = nowMs();
    const handle = await client.loop({ address: POD_V4, port: TCP_PORT, proto: 'tcp', durationMs: 10_000, maxCount: 50 });
    const results = await handle.finished();
    const after = nowMs();
    expectAnswers(results, 50, 'web-a', { address: POD_V4, port: TCP_PORT });
    expect(results[0]!.t0).toBeGreaterThanOrEqual(before);
    expect(results[49]!.t1).toBeLessThanOrEqual(after);
    for (let i = 1; i < results.length; i++) expect(results[i]!.t0).toBeGreaterThanOrEqual(results[i - 1]!.t1);
  });

  it('a loop can be stopped while it runs, and its timestamps place each result around a change', async () => {
    const handle = await client.loop({ address: POD_V6, port: TCP_PORT, proto: 'tcp', durationMs: 20_000, maxCount: 100_000 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const stopping = nowMs();
    await pod.stop();
    const stopped = nowMs();
    await new Promise((resolve) => setTimeout(resolve, 100));
    const results = await handle.stop();
    await pod.start();
    expect(results.length).toBeLessThan(100_000);
    const before = results.filter((r) => r.t1 < stopping);
    const during = results.filter((r) => r.t1 >= stopping && r.t0 < stopped);
    const after = results.filter((r) => r.t0 >= stopped);
    expect(before.length).toBeGreaterThan(0);
    expect(after.length).toBeGreaterThan(0);
    expect(
      before.every((r) => r.ok && r.answer === 'web-a'),
      summary(before.filter((r) => !r.ok)),
    ).toBe(true);
    expectErrno(after, 'ECONNREFUSED');
    // A connection already in the pod's accept queue when it closes is reset, not refused.
    for (const r of during) expect([undefined, 'ECONNRESET', 'ECONNREFUSED']).toContain(r.errno);
  });

  it('destroy() leaves no netns, cgroup, pin root or process behind', async () => {
    const doomed = await KernelLab.create('doomed');
    const doomedNode = await doomed.addNode('n1');
    await doomed.addPod('p', ['10.244.9.9'], [{ port: 80, proto: 'tcp' }]);
    const doomedClient = await doomedNode.client();
    // Stand in for the datapath's pins.
    mkdirSync(join(doomedNode.pinRoot, 'links'), { recursive: true });
    const pids = await doomed.processIds();
    expect(pids).toContain(doomedClient.pid);
    expect(pids.length).toBeGreaterThanOrEqual(2); // the client and the pod server
    expect(await listNetns()).toContain(doomed.netns);

    await doomed.destroy();

    expect(await listNetns()).not.toContain(doomed.netns);
    expect(existsSync(doomed.cgroupRoot)).toBe(false);
    expect(existsSync(doomedNode.pinRoot)).toBe(false);
    expect(pids.filter(isAlive)).toEqual([]);
    await expect(doomed.addNode('late')).rejects.toThrow(/destroyed/);
  });

  it('cleanupLeftovers() removes what a crashed run left, and nothing of live runs', async () => {
    const env = kernelEnv();
    const dead = await deadPid();
    const netns = `nbt-${dead}-crashed`;
    const cgroup = join(cgroupBase(), `${dead}-crashed`);
    const pins = join(PIN_BASE, `nbt-${dead}-crashed-n1`);
    await new Promise<void>((resolve, reject) =>
      spawn(env.ip, ['netns', 'add', netns], { stdio: 'ignore' }).on('exit', (code) =>
        code === 0 ? resolve() : reject(new Error(`ip netns add ${netns}: ${code}`)),
      ),
    );
    mkdirSync(join(cgroup, 'n1'), { recursive: true });
    mkdirSync(join(pins, 'maps'), { recursive: true });
    // A process the crashed run left running in its cgroup and netns.
    const orphan = spawn(
      env.sh,
      [
        '-c',
        'echo $$ > "$1" && shift && exec "$@"',
        'sh',
        join(cgroup, 'n1', 'cgroup.procs'),
        env.nsenter,
        `--net=${netnsPath(netns)}`,
        '--',
        'sleep',
        '60',
      ],
      { stdio: 'ignore' },
    );
    const orphanExited = new Promise((resolve) => orphan.on('exit', resolve));
    await expect.poll(() => cgroupOfPid(orphan.pid!)).toBe(cgroupProcPath(join(cgroup, 'n1')));

    const before = (await leftovers()).map((r) => `${r.kind} ${r.name} ${r.ownerPid}`);
    expect(before).toEqual(expect.arrayContaining([`netns ${netns} ${dead}`, `cgroup ${cgroup} ${dead}`, `pins ${pins} ${dead}`]));
    expect(before.some((r) => r.includes(lab.netns) || r.includes(lab.cgroupRoot))).toBe(false);

    const removed = await cleanupLeftovers();
    expect(removed).toEqual(expect.arrayContaining([`netns ${netns}`, `cgroup ${cgroup}`, `pins ${pins}`]));
    expect(removed.some((line) => line.includes(String(orphan.pid)))).toBe(true);
    await orphanExited;
    expect(isAlive(orphan.pid!)).toBe(false);
    expect(await listNetns()).not.toContain(netns);
    expect(existsSync(cgroup)).toBe(false);
    expect(existsSync(pins)).toBe(false);
    expect((await leftovers()).map((r) => r.name)).not.toEqual(expect.arrayContaining([netns]));

    // The live lab of this process was not touched.
    expect(await listNetns()).toContain(lab.netns);
    expect(existsSync(node.cgroupPath)).toBe(true);
    expectAnswers(await client.connect({ address: POD_V4, port: TCP_PORT, proto: 'tcp', count: 1 }), 1, 'web-a', {
      address: POD_V4,
      port: TCP_PORT,
    });
  });

  it('refuses bad names before touching anything', async () => {
    await expect(KernelLab.create('Bad_Name')).rejects.toThrow(/invalid lab name/);
    await expect(lab.addNode('../escape')).rejects.toThrow(/invalid node name/);
    await expect(lab.addPod('p2', ['not-an-ip'], [{ port: 1, proto: 'tcp' }])).rejects.toThrow(/not an IP/);
  });
});
