// loadBalancer.simple in the real kernel: how connect() picks an endpoint inside the tier the
// mode chose. ROUND_ROBIN is an exact rotation per service; LEAST_REQUEST picks the less loaded
// of two random endpoints by the open TCP connections sock_ops counts per backend, so it is
// tested with connections that stay open, held by a process in the node's cgroup. MAGLEV hashes
// the client's network namespace into the tier's table, so it is tested from several client
// namespaces (extra labs whose pods answer on the same addresses), all in the node's cgroup.
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Client, kernelEnv, KernelLab, netnsPath } from '../../lab/kernel-lab/index.js';
import { backendId } from '../../pkg/datapath/codecs.js';
import type { BackendSpec, BalanceName, ModeName, ServiceSpec } from '../../pkg/datapath/index.js';
import type { PlannedEndpoint, PlannedService } from '../../pkg/planner/index.js';
import { maglevTable, NodeIds, serviceSpecs } from '../../pkg/reconciler/index.js';
import { be, kernelNode, type KernelNode, SMALL_SIZES, svc, tally } from './datapath-fixture.js';
import { ifSetUp } from '../fixtures/if-set-up.js';
import { connectFrom as connectFromNetns } from './netns-connector.js';

const VIP = '10.96.0.20';
const POD = { a: '10.244.1.10', b: '10.244.1.11', c: '10.244.1.12', far: '10.244.2.10' };
const NAME: Record<string, string> = { [POD.a]: 'pod-a', [POD.b]: 'pod-b', [POD.c]: 'pod-c', [POD.far]: 'pod-far' };
/** MAGLEV clients: each its own network namespace, hence its own netns cookie. */
const CLIENT_NETNS = 8;
/** The planner's default table size: one MAGLEV tier needs this many slots. */
const TABLE = 1021;

/**
 * Opens TCP connections from inside the node's cgroup and keeps them open until told: it reads
 * the pod's answer and, with allowHalfOpen, never closes its side on the pod's FIN.
 */
const HOLDER = `
const net = require('node:net');
const socks = new Map();
let next = 1;
const openOne = (host, port) => new Promise((resolve) => {
  const s = net.createConnection({ host, port, allowHalfOpen: true, autoSelectFamily: false });
  let data = '';
  s.on('error', (e) => resolve({ error: e.code || e.message }));
  s.on('data', (d) => {
    data += d;
    if (!data.includes('\\n')) return;
    const id = next++;
    socks.set(id, s);
    resolve({ id, answer: data.trim() });
  });
});
const close = (id) => new Promise((resolve) => {
  const s = socks.get(id);
  socks.delete(id);
  if (!s) return resolve();
  s.once('close', resolve);
  s.destroy();
});
require('node:readline').createInterface({ input: process.stdin }).on('line', async (line) => {
  const m = JSON.parse(line);
  let out = true;
  if (m.op === 'open') {
    out = [];
    for (let i = 0; i < m.count; i++) out.push(await openOne(m.address, m.port));
  } else if (m.op === 'close') {
    await Promise.all(m.ids.map(close));
  }
  process.stdout.write(JSON.stringify(out) + '\\n');
});
process.stdout.write('"ready"\\n');
`;

interface Held {
  id: number;
  answer: string;
}

class Holder {
  private readonly replies: Array<(line: string) => void> = [];

  private constructor(readonly child: ChildProcessByStdio<Writable, Readable, null>) {
    createInterface({ input: child.stdout }).on('line', (line) => this.replies.shift()?.(line));
  }

  static async start(cgroupPath: string, netns: string): Promise<Holder> {
    const env = kernelEnv();
    const { NODE_OPTIONS: _dropped, ...childEnv } = process.env;
    // Into the node's cgroup before exec, so every connect it makes runs the datapath.
    const script = 'echo $$ > "$1" && exec "$2" --net="$3" -- "$4" -e "$5"';
    const args = [join(cgroupPath, 'cgroup.procs'), env.nsenter, netnsPath(netns), process.execPath, HOLDER];
    const child = spawn(env.sh, ['-c', script, 'sh', ...args], { stdio: ['pipe', 'pipe', 'inherit'], env: childEnv });
    const holder = new Holder(child);
    expect(await holder.reply()).toBe('ready');
    return holder;
  }

  private reply(): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('connection holder did not answer')), 20_000);
      this.replies.push((line) => {
        clearTimeout(timer);
        resolve(JSON.parse(line));
      });
    });
  }

  async open(count: number, port: number): Promise<Held[]> {
    this.child.stdin.write(`${JSON.stringify({ op: 'open', address: VIP, port, count })}\n`);
    const opened = (await this.reply()) as Array<Held | { error: string }>;
    for (const o of opened) expect(o, JSON.stringify(o)).toHaveProperty('answer');
    return opened as Held[];
  }

  async close(held: readonly Held[]): Promise<void> {
    this.child.stdin.write(`${JSON.stringify({ op: 'close', ids: held.map((h) => h.id) })}\n`);
    await this.reply();
  }

  stop(): void {
    this.child.kill('SIGKILL');
  }
}

let k: KernelNode;
let client: Client;
let holder: Holder;
const clientLabs: KernelLab[] = [];

beforeAll(async () => {
  k = await kernelNode('balance', { ...SMALL_SIZES, slots: 4 * TABLE });
  const ports = [{ port: 8080, proto: 'tcp' as const }];
  for (const [address, name] of Object.entries(NAME)) await k.lab.addPod(name, [address], ports);
  client = await k.node.client();
  holder = await Holder.start(k.node.cgroupPath, k.lab.netns);
  for (let i = 0; i < CLIENT_NETNS; i++) {
    const lab = await KernelLab.create(`mgc${i}`);
    clientLabs.push(lab);
    for (const [address, name] of Object.entries(NAME)) await lab.addPod(name, [address], ports);
  }
});

afterAll(async () => {
  ifSetUp(holder)?.stop();
  for (const lab of clientLabs) await lab.destroy();
  await ifSetUp(client)?.close();
  await ifSetUp(k)?.destroy();
});

const spec = (port: number, mode: ModeName, tiers: string[][], balance: BalanceName): ServiceSpec => ({
  ...svc(
    VIP,
    port,
    mode,
    tiers.map((t) => t.map((a) => be(a))),
  ),
  balance,
});
const answers = async (port: number, count: number): Promise<string[]> =>
  (await client.connect({ address: VIP, port, proto: 'tcp', count })).map((r) => r.answer ?? `!${r.errno}`);
const counted = (held: readonly Held[]): Record<string, number> => tally(held.map((h) => ({ ok: true, answer: h.answer, t0: 0, t1: 0 })));

/** Open connections sock_ops counts for each pod of a programmed service, by pod name. */
function openConns(port: number): Record<string, number> {
  const programmed = k.dp.writer.get({ address: VIP, port, protocol: 'TCP' })!;
  const out: Record<string, number> = {};
  for (const b of programmed.tiers.flat()) {
    const v = k.dp.loaded.maps.backendConns.lookup(backendId.encode(b.id));
    out[NAME[b.address]!] = v ? backendId.decode(v) : 0;
  }
  return out;
}

/** Closes reach TCP_CLOSE once the pod acknowledges our FIN: wait for the count to say so. */
async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(check(), what).toBe(true);
}

describe('ROUND_ROBIN', () => {
  it('gives each endpoint of the tier exactly its share of k*N sequential connects, in a fixed cycle', async () => {
    k.dp.writer.apply(spec(80, 'FAILOVER', [[POD.a, POD.b, POD.c], [POD.far]], 'ROUND_ROBIN'));
    const got = await answers(80, 30);
    const t = tally(got.map((answer) => ({ ok: true, answer, t0: 0, t1: 0 })));
    expect(Object.keys(t).sort()).toEqual(['pod-a', 'pod-b', 'pod-c']);
    for (const n of Object.values(t)) expect(Math.abs(n - 10)).toBeLessThanOrEqual(1);
    // One rotation per service: the sequence repeats every N connects.
    for (let i = 3; i < got.length; i++) expect(got[i], `connect ${i}`).toBe(got[i - 3]);
    expect(new Set(got.slice(0, 3)).size).toBe(3);
  });

  it('rotates only inside the tier FAILOVER chose', async () => {
    const tiers = [[], [POD.a, POD.b], [POD.far]];
    k.dp.writer.apply(spec(81, 'FAILOVER', tiers, 'ROUND_ROBIN'));
    const got = await answers(81, 20);
    expect(tally(got.map((answer) => ({ ok: true, answer, t0: 0, t1: 0 })))).toEqual({ 'pod-a': 10, 'pod-b': 10 });
    for (let i = 1; i < got.length; i++) expect(got[i]).not.toBe(got[i - 1]);

    k.dp.writer.apply(spec(81, 'FAILOVER', [[POD.c], [POD.a, POD.b], [POD.far]], 'ROUND_ROBIN'));
    expect(await answers(81, 10)).toEqual(new Array(10).fill('pod-c'));
  });

  it('in RANDOM mode rotates over every slot of every tier', async () => {
    k.dp.writer.apply(spec(82, 'RANDOM', [[POD.a], [POD.b, POD.far]], 'ROUND_ROBIN'));
    const got = await answers(82, 30);
    expect(tally(got.map((answer) => ({ ok: true, answer, t0: 0, t1: 0 })))).toEqual({ 'pod-a': 10, 'pod-b': 10, 'pod-far': 10 });
  });

  it('is what the balance says: RANDOM stays inside the tier but keeps no rotation', async () => {
    k.dp.writer.apply(spec(83, 'FAILOVER', [[POD.a, POD.b, POD.c], [POD.far]], 'RANDOM'));
    const got = await answers(83, 30);
    expect(got.every((a) => ['pod-a', 'pod-b', 'pod-c'].includes(a))).toBe(true);
    const id = k.dp.writer.serviceId({ address: VIP, port: 83, protocol: 'TCP' })!;
    expect(k.dp.loaded.maps.rotation.lookup(backendId.encode(id))).toBeUndefined();
  });

  it('loses its rotation row with the service', () => {
    const key = { address: VIP, port: 80, protocol: 'TCP' as const };
    const id = k.dp.writer.serviceId(key)!;
    expect(k.dp.loaded.maps.rotation.lookup(backendId.encode(id))).toBeDefined();
    k.dp.writer.remove(key);
    expect(k.dp.loaded.maps.rotation.lookup(backendId.encode(id))).toBeUndefined();
  });
});

describe('LEAST_REQUEST', () => {
  it('spreads 60 long-lived connections over 3 endpoints within 3 of each other, as sock_ops counts them', async () => {
    k.dp.writer.apply(spec(90, 'FAILOVER', [[POD.a, POD.b, POD.c], [POD.far]], 'LEAST_REQUEST'));
    const held = await holder.open(60, 90);
    const t = counted(held);
    expect(Object.keys(t).sort()).toEqual(['pod-a', 'pod-b', 'pod-c']);
    expect(Math.max(...Object.values(t)) - Math.min(...Object.values(t))).toBeLessThanOrEqual(3);
    expect(openConns(90)).toEqual({ ...t, 'pod-far': 0 });

    // Each close is uncounted exactly once: all of them leave every count at zero.
    await holder.close(held);
    await until(() => Object.values(openConns(90)).every((n) => n === 0), `counts after closing all: ${JSON.stringify(openConns(90))}`);
  });

  it('sends new connections to the backend where half were closed (two endpoints: always the less loaded)', async () => {
    k.dp.writer.apply(spec(91, 'FAILOVER', [[POD.a, POD.b]], 'LEAST_REQUEST'));
    const held = await holder.open(40, 91);
    const t = counted(held);
    expect(Math.abs(t['pod-a']! - t['pod-b']!)).toBeLessThanOrEqual(1);

    const onA = held.filter((h) => h.answer === 'pod-a');
    const closed = onA.slice(0, Math.floor(onA.length / 2));
    await holder.close(closed);
    const expected = { 'pod-a': onA.length - closed.length, 'pod-b': t['pod-b']! };
    await until(() => openConns(91)['pod-a'] === expected['pod-a'], `pod-a count after closing ${closed.length}`);

    const next = await holder.open(closed.length, 91);
    expect(counted(next)).toEqual({ 'pod-a': closed.length });
    await holder.close([...held.filter((h) => !closed.includes(h)), ...next]);
    await until(() => Object.values(openConns(91)).every((n) => n === 0), 'counts after closing all');
  });

  it('counts a connection the pod refuses nowhere', async () => {
    // Port 9 has no listener: the handshake fails, nothing was established, nothing is counted.
    k.dp.writer.apply({ ...spec(92, 'FAILOVER', [[POD.a]], 'LEAST_REQUEST'), tiers: [[be(POD.a, 9)]] });
    const r = await client.connect({ address: VIP, port: 92, proto: 'tcp', count: 5 });
    expect(tally(r)).toEqual({ '!ECONNREFUSED': 5 });
    expect(openConns(92)).toEqual({ 'pod-a': 0 });
  });
});

const connectFrom = (netns: string, port: number, count: number): Promise<string[]> =>
  connectFromNetns(k.node.cgroupPath, netns, VIP, port, count);

const identity = (b: BackendSpec): string => `${b.address}#${b.port}`;
const maglev = (port: number, pods: readonly string[]): ServiceSpec => ({
  ...svc(VIP, port, 'RANDOM', [
    maglevTable(
      pods.map((a) => be(a)),
      identity,
      TABLE,
    ),
  ]),
  balance: 'MAGLEV',
});

/** Where each client namespace lands: its one answer over `count` connects, or it fails the test. */
async function landings(port: number, count: number): Promise<string[]> {
  const out: string[] = [];
  for (const lab of clientLabs) {
    const got = await connectFrom(lab.netns, port, count);
    expect(new Set(got).size, `${lab.netns}: ${got.join(',')}`).toBe(1);
    out.push(got[0]!);
  }
  return out;
}

describe('MAGLEV', () => {
  const pods = [POD.a, POD.b, POD.c, POD.far];

  it('sends every connect of a client namespace to one backend, clients spread over several', async () => {
    k.dp.writer.apply(maglev(70, pods));
    const first = await landings(70, 5);
    expect(first.every((a) => Object.values(NAME).includes(a))).toBe(true);
    expect(new Set(first).size).toBeGreaterThan(1);
    // The node's own namespace is one more client, as consistent as the others.
    const own = await answers(70, 10);
    expect(new Set(own).size).toBe(1);
    expect(await landings(70, 3)).toEqual(first);
  });

  it('moves only the clients of a removed backend (others only where the table itself changed)', async () => {
    const before = maglev(71, pods);
    k.dp.writer.apply(before);
    const was = await landings(71, 3);
    const gone = Object.entries(NAME).find(([, name]) => name === was[0])![0];
    const after = maglev(
      71,
      pods.filter((p) => p !== gone),
    );
    k.dp.writer.apply(after);
    const now = await landings(71, 3);
    const oldTable = before.tiers[0]!.map((b) => NAME[b.address]!);
    const newTable = after.tiers[0]!.map((b) => NAME[b.address]!);
    was.forEach((old, i) => {
      if (old === NAME[gone]) {
        expect(now[i], `client ${i} was on the removed backend`).not.toBe(old);
        return;
      }
      if (now[i] === old) return;
      // A client not on the removed backend may move only if some slot went from its old
      // backend to its new one: Maglev moves a few such slots, the kernel must not move more.
      const possible = oldTable.some((b, slot) => b === old && newTable[slot] === now[i]);
      expect(possible, `client ${i} moved from ${old} to ${now[i]}`).toBe(true);
    });
    const movedOthers = was.filter((old, i) => old !== NAME[gone] && now[i] !== old).length;
    expect(movedOthers).toBeLessThanOrEqual(2);
  });
});

describe('PASSTHROUGH', () => {
  it('leaves a PASSTHROUGH port of a Service alone while its other port is rewritten', async () => {
    const endpoint: PlannedEndpoint = { address: POD.a, port: 8080, node: 'w1', pod: null, terminating: false };
    const entry = { vip: VIP, family: 4 as const, protocol: 'TCP' as const, tiers: [{ endpoints: [endpoint] }] };
    const planned: PlannedService = {
      service: 'test/passthrough',
      mode: 'RANDOM',
      reason: 'test',
      scopes: [],
      entries: [
        { ...entry, port: 60, portName: 'http' },
        { ...entry, port: 61, portName: 'admin', passthrough: true },
      ],
    };
    const specs = serviceSpecs(planned, new NodeIds());
    expect(specs.map((d) => d.spec.key.port)).toEqual([60]);
    for (const d of specs) k.dp.writer.apply(d.spec);
    expect(await answers(60, 3)).toEqual(['pod-a', 'pod-a', 'pod-a']);
    // Not rewritten: the VIP itself is dialled, and the lab has no route to it.
    expect(await answers(61, 3)).toEqual(['!ENETUNREACH', '!ENETUNREACH', '!ENETUNREACH']);
  });
});
