// The consistency rules under load: a client connects in a loop while the writer churns the
// service, the map fills up, and the agent restarts. No connect may fail or reach an endpoint
// that was already removed while a valid endpoint exists.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MapFullError, PinConflictError, type BackendSpec, type ServiceSpec } from '../../pkg/datapath/index.js';
import { nowMs } from '../../lab/kernel-lab/index.js';
import type { Client } from '../../lab/kernel-lab/index.js';
import type { ConnectResult } from '../../lab/kernel-lab/index.js';
import { be, kernelNode, type KernelNode, svc, tally } from './datapath-fixture.js';
import { ifSetUp } from '../fixtures/if-set-up.js';

const VIP = '10.96.1.10';
const PODS = Array.from({ length: 6 }, (_, i) => ({ name: `pod-${i}`, address: `10.244.9.${10 + i}` }));

let k: KernelNode;
let client: Client;

beforeAll(async () => {
  k = await kernelNode('consistency', { services: 8, backends: 16, slots: 24, revNat: 64, counters: 256 });
  for (const p of PODS) await k.lab.addPod(p.name, [p.address], [{ port: 8080, proto: 'tcp' }]);
  client = await k.node.client();
});

afterAll(async () => {
  await ifSetUp(client)?.close();
  await ifSetUp(k)?.destroy();
});

interface Epoch {
  start: number;
  end: number;
  all: Set<string>;
  best: Set<string>;
}

const nameOf = new Map(PODS.map((p) => [p.address, p.name]));

function describeSpec(spec: ServiceSpec, start: number, end: number): Epoch {
  const names = (tier: readonly BackendSpec[]) => tier.map((b) => nameOf.get(b.address)!);
  const best = spec.tiers.find((t) => t.length > 0) ?? [];
  return { start, end, all: new Set(spec.tiers.flatMap(names)), best: new Set(names(best)) };
}

describe('churn', () => {
  it('a writer adds, removes and moves endpoints between tiers while connects never fail or go stale', async () => {
    let seed = 7;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const randomSpec = (): ServiceSpec => {
      // Three tiers, each pod in at most one, at least one pod somewhere.
      const tiers: BackendSpec[][] = [[], [], []];
      for (const p of PODS) {
        const t = rand(4);
        if (t < 3) tiers[t]!.push(be(p.address));
      }
      if (tiers.every((t) => t.length === 0)) tiers[rand(3)]!.push(be(PODS[rand(PODS.length)]!.address));
      return svc(VIP, 80, 'FAILOVER', tiers);
    };

    let spec = randomSpec();
    const epochs: Epoch[] = [];
    let t0 = nowMs();
    k.dp.writer.apply(spec);
    epochs.push(describeSpec(spec, t0, nowMs()));

    const loop = await client.loop({ address: VIP, port: 80, proto: 'tcp', durationMs: 4000, maxCount: 20000 });
    const until = nowMs() + 3500;
    let changes = 0;
    while (nowMs() < until) {
      spec = randomSpec();
      t0 = nowMs();
      k.dp.writer.apply(spec);
      epochs.push(describeSpec(spec, t0, nowMs()));
      changes++;
      await new Promise((r) => setTimeout(r, rand(15)));
    }
    const results = await loop.finished();

    // For each connect, the endpoints it may legitimately reach are those of every state that
    // was live at some moment of it; a connect wholly inside one settled state must use its
    // best tier. A state is live from its apply's start until the next apply has finished.
    let settled = 0;
    const violations: Array<{ r: ConnectResult; allowed: string[] }> = [];
    for (const r of results) {
      if (!r.ok) continue;
      const live = epochs.filter((e, i) => e.start <= r.t1 + 1 && (epochs[i + 1]?.end ?? Infinity) >= r.t0 - 1);
      const inside = epochs.find((e, i) => e.end < r.t0 - 1 && (epochs[i + 1]?.start ?? Infinity) > r.t1 + 1);
      const allowed = inside ? inside.best : new Set(live.flatMap((e) => [...e.all]));
      if (inside) settled++;
      if (!allowed.has(r.answer!)) violations.push({ r, allowed: [...allowed] });
    }
    const failed = results.filter((r) => !r.ok);
    console.log(
      `churn: ${results.length} connects during ${changes} writer changes; ${settled} in settled states; ` +
        `${failed.length} failed; ${violations.length} reached an endpoint not live at the time`,
    );
    expect(changes).toBeGreaterThan(50);
    expect(results.length).toBeGreaterThan(500);
    expect(failed).toEqual([]);
    expect(violations).toEqual([]);
  });
});

describe('a full map', () => {
  it('gives a typed error naming the service, leaves it as it was, and other services keep working', async () => {
    // services: 8 entries, slots: 24. Fill the slots map with services of 4 endpoints each.
    const small = (port: number, n: number): ServiceSpec => svc(VIP, port, 'FAILOVER', [PODS.slice(0, n).map((p) => be(p.address))]);
    k.dp.writer.remove({ address: VIP, port: 80, protocol: 'TCP' });
    for (const port of [1001, 1002, 1003, 1004, 1005, 1006]) k.dp.writer.apply(small(port, 4)); // all 24 slots

    // A seventh service needs 2 slots and none remain.
    let err: unknown;
    try {
      k.dp.writer.apply({ ...small(1007, 2), label: 'sample/too-big' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(MapFullError);
    expect((err as MapFullError).map).toBe('slots');
    expect((err as Error).message).toContain('sample/too-big');
    expect(k.dp.writer.get({ address: VIP, port: 1007, protocol: 'TCP' })).toBeUndefined();
    expect(tally(await client.connect({ address: VIP, port: 1007, proto: 'tcp', count: 2 }))).toEqual({ '!ENETUNREACH': 2 });

    // Growing an existing service past the limit leaves its old endpoints serving.
    expect(() => k.dp.writer.apply(small(1005, 5))).toThrow(MapFullError);
    expect(k.dp.writer.get({ address: VIP, port: 1005, protocol: 'TCP' })!.tiers[0]).toHaveLength(4);
    const r = tally(await client.connect({ address: VIP, port: 1005, proto: 'tcp', count: 40 }));
    expect(Object.keys(r).every((n) => ['pod-0', 'pod-1', 'pod-2', 'pod-3'].includes(n))).toBe(true);

    // The others are untouched.
    const other = tally(await client.connect({ address: VIP, port: 1001, proto: 'tcp', count: 20 }));
    expect(Object.values(other).reduce((a, b) => a + b, 0)).toBe(20);
    expect(Object.keys(other).every((n) => n.startsWith('pod-'))).toBe(true);
  });

  it('a bulk load that does not fit names each service that failed and programs the rest', async () => {
    for (const s of k.dp.writer.programmed()) k.dp.writer.remove(s.key);
    const specs = [2001, 2002, 2003, 2004, 2005, 2006, 2007].map((port) =>
      svc(VIP, port, 'FAILOVER', [PODS.slice(0, 4).map((p) => be(p.address))]),
    );
    // The next service id, learnt from a probe service: the batch hands out the 7 after it.
    const probe = k.dp.writer.apply(svc(VIP, 2000, 'FAILOVER', [[be(PODS[0]!.address)]]));
    k.dp.writer.remove(probe.key);
    const result = k.dp.writer.applyMany(specs); // 28 slots wanted, 24 fit
    expect(result.applied).toHaveLength(6);
    // The refused batch wrote ids into the kernel: the services applied one by one after it
    // never reuse them.
    expect(Math.min(...result.applied.map((s) => s.id))).toBeGreaterThan(probe.id + specs.length);
    expect(result.failed).toHaveLength(1);
    expect(result.failed[0]!.error).toBeInstanceOf(MapFullError);
    expect(result.failed[0]!.error.message).toContain(':2007/TCP');
    const ok = tally(await client.connect({ address: VIP, port: 2001, proto: 'tcp', count: 10 }));
    expect(Object.values(ok).reduce((a, b) => a + b, 0)).toBe(10);
    expect(Object.keys(ok).every((n) => n.startsWith('pod-'))).toBe(true);
  });

  it('a bulk load that fits goes through the batch path in one piece', async () => {
    for (const s of k.dp.writer.programmed()) k.dp.writer.remove(s.key);
    const specs = [3001, 3002, 3003].map((port, i) => svc(VIP, port, 'FAILOVER', [[be(PODS[i]!.address)], [be(PODS[5]!.address)]]));
    const result = k.dp.writer.applyMany(specs);
    expect(result.failed).toEqual([]);
    for (const [i, port] of [3001, 3002, 3003].entries()) {
      expect(tally(await client.connect({ address: VIP, port, proto: 'tcp', count: 5 }))).toEqual({ [`pod-${i}`]: 5 });
    }
  });
});

describe('restart', () => {
  it('a new agent reuses the pinned maps, reads back what is programmed and swaps programs with no failed connect', async () => {
    for (const s of k.dp.writer.programmed()) k.dp.writer.remove(s.key);
    k.dp.writer.apply(svc(VIP, 80, 'FAILOVER', [[be(PODS[0]!.address)], [be(PODS[1]!.address)]]));
    const before = k.dp.writer.programmed();

    const loop = await client.loop({ address: VIP, port: 80, proto: 'tcp', durationMs: 1500, maxCount: 5000 });
    await new Promise((r) => setTimeout(r, 300));
    for (let i = 0; i < 3; i++) k.reopen();
    const results = await loop.finished();

    expect(k.dp.loaded.report.updatedLinks).toHaveLength(9);
    expect(k.dp.loaded.report.reusedMaps).toContain('services');
    expect(k.dp.writer.programmed()).toEqual(before);
    expect(k.dp.writer.readBack).toMatchObject({ services: 1, backends: 2, holes: 0 });
    console.log(`restart: ${results.length} connects across 3 reopenings: ${JSON.stringify(tally(results))}`);
    expect(results.length).toBeGreaterThan(50);
    expect(tally(results)).toEqual({ 'pod-0': results.length });
  });

  it('keeps the pinned size when options ask for another, and says so', () => {
    const dp = k.reopen({ services: 8, backends: 16, slots: 48, revNat: 64, counters: 256 });
    expect(dp.loaded.report.sizeMismatches).toEqual([{ map: 'slots', pinned: 24, requested: 48 }]);
    expect(dp.loaded.sizes.slots).toBe(24);
    k.reopen({ services: 8, backends: 16, slots: 24, revNat: 64, counters: 256 });
  });

  it('refuses a pin root whose links are attached to another cgroup', async () => {
    const other = await k.lab.addNode('w2');
    const { Datapath } = await import('../../pkg/datapath/index.js');
    expect(() => Datapath.open({ pinRoot: k.node.pinRoot, cgroupPath: other.cgroupPath })).toThrow(PinConflictError);
  });
});
