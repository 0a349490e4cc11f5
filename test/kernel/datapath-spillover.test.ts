// Gradual spillover in the real kernel (docs/outlier-detection.md, "Gradual spillover between
// tiers"): the share of connects tier 0 keeps as its healthy endpoints go, whether the agent wrote
// them as not ready (n > ready) or sock_ops ejected them (no agent write at all), held to the
// table pkg/contract's priorityLoad() is also held to. Then churn: ejections and endpoint changes
// together under a connect loop, and no connect ever reaches an endpoint that is gone.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Client, type ConnectResult, nowMs } from '../../lab/kernel-lab/index.js';
import { type BackendSpec, type OutlierSpec, readServiceEjections, type ServiceSpec } from '../../pkg/datapath/index.js';
import { ifSetUp } from '../fixtures/if-set-up.js';
import { FACTOR, HEALTH_CASES, TIER0_OF_FOUR } from '../unit/planner/priority-load-table.js';
import { be, kernelNode, type KernelNode, tally } from './datapath-fixture.js';

const VIP = '10.96.0.60';
const LISTEN = 8080;
const T0 = [0, 1, 2, 3].map((i) => `10.244.11.${i + 1}`);
const T1 = [0, 1, 2, 3].map((i) => `10.244.12.${i + 1}`);
const CHURN = Array.from({ length: 10 }, (_, i) => ({ name: `churn-${i}`, address: `10.244.13.${i + 1}` }));
/** Connects measured per share: the issue asks for at least 1,000. */
const N = 1000;
/** Binomial bound: a correct kernel fails this about once in 150,000 runs per share. */
const SIGMAS = 4.5;

let k: KernelNode;
let client: Client;

beforeAll(async () => {
  k = await kernelNode('spill');
  const ports = [{ port: LISTEN, proto: 'tcp' as const }];
  for (const [i, a] of T0.entries()) await k.lab.addPod(`t0-${i}`, [a], ports);
  for (const [i, a] of T1.entries()) await k.lab.addPod(`t1-${i}`, [a], ports);
  for (const p of CHURN) await k.lab.addPod(p.name, [p.address], ports);
  client = await k.node.client();
});

afterAll(async () => {
  await ifSetUp(client)?.close();
  await ifSetUp(k)?.destroy();
});

const spill = (port: number, tier0: BackendSpec[], ready0: number, outlier?: OutlierSpec): ServiceSpec => ({
  key: { address: VIP, port, protocol: 'TCP' },
  label: 'test/spillover',
  mode: 'SPILLOVER',
  tiers: [tier0, T1.map((a) => be(a, LISTEN))],
  spillover: { overprovisionPercent: FACTOR, endpoints: [4, 4], ready: [ready0, 4] },
  ...(outlier ? { outlier } : {}),
});

const connects = (port: number, count: number): Promise<ConnectResult[]> =>
  client.connect({ address: VIP, port, proto: 'tcp', count, timeoutMs: 1000 });
/** The writes and deletes the agent's writer made, map by map (reads are this test's own). */
const agentWrites = (): string => JSON.stringify(Object.entries(k.dp.writer.mapOps()).map(([map, ops]) => [map, ops.writes, ops.deletes]));
const inTier0 = (rs: ConnectResult[]): number => rs.filter((r) => r.answer?.startsWith('t0-')).length;

/** Whether `hits` of `n` connects fit a share of `percent`: exact at 0 and 100, else within SIGMAS. */
function withinBounds(hits: number, n: number, percent: number): boolean {
  const p = percent / 100;
  if (p === 0 || p === 1) return hits === n * p;
  return Math.abs(hits - n * p) <= SIGMAS * Math.sqrt(n * p * (1 - p));
}

describe('spillover shares, tier 0 of four endpoints (factor 1.4) and a healthy tier 1', () => {
  it.each(TIER0_OF_FOUR)('$healthy of 4 ready (the agent wrote n = 4): tier 0 keeps $loads.0%', async ({ healthy, loads }) => {
    const port = 200 + healthy;
    k.dp.writer.apply(
      spill(
        port,
        T0.slice(0, healthy).map((a) => be(a, LISTEN)),
        healthy,
      ),
    );
    const got = await connects(port, N);
    const hits = inTier0(got);
    console.log(`not ready: ${healthy}/4 healthy -> tier 0 took ${hits}/${N} (expected ${loads[0]}%)`);
    expect(got.filter((r) => !r.ok)).toEqual([]);
    expect(withinBounds(hits, N, loads[0]), `${hits} of ${N} vs ${loads[0]}%`).toBe(true);
  });

  it.each(TIER0_OF_FOUR)(
    '$healthy of 4 healthy after kernel ejections: tier 0 keeps $loads.0% within a second, with no agent write',
    async ({ healthy, loads }) => {
      const port = 210 + healthy;
      // The refusing endpoints listen on no port: RST at once. Their port differs per case so that a
      // backend ejected in one case is not the same backend (address:port) in the next.
      const refusing = 4 - healthy;
      const tier0 = T0.map((a, i) => be(a, i < refusing ? 20 + healthy : LISTEN));
      const outlier: OutlierSpec = { consecutiveFailures: 1, maxEjectionPercent: 100, baseEjectionMs: 60_000, intervalMs: 10_000 };
      k.dp.writer.apply(spill(port, tier0, 4, outlier));
      const id = k.dp.writer.serviceId({ address: VIP, port, protocol: 'TCP' })!;
      const writesBefore = agentWrites();

      // Until sock_ops has ejected every refusing endpoint: each failed connect ejects one.
      let lastFailure = 0;
      for (let round = 0; round < 30 && (readServiceEjections(k.dp.loaded.maps.svcEjections).get(id)?.active ?? 0) < refusing; round++) {
        const warm = await connects(port, 10);
        for (const r of warm) if (!r.ok) lastFailure = r.t1;
      }
      const ejections = readServiceEjections(k.dp.loaded.maps.svcEjections).get(id);
      expect(ejections?.active ?? 0).toBe(refusing);
      if (refusing > 0) expect(ejections?.activeByTier.slice(0, 2)).toEqual([refusing, 0]);

      const got = await connects(port, N);
      // Nothing the agent holds was written: the split moved by the kernel's own ejections.
      expect(agentWrites()).toBe(writesBefore);
      expect(got.filter((r) => !r.ok)).toEqual([]);
      const hits = inTier0(got);
      const firstSecond = got.filter((r) => lastFailure === 0 || r.t0 < lastFailure + 1000);
      console.log(
        `ejected: ${healthy}/4 healthy -> tier 0 took ${hits}/${N} (expected ${loads[0]}%); ` +
          `${inTier0(firstSecond)}/${firstSecond.length} in the first second after the last ejection`,
      );
      expect(withinBounds(hits, N, loads[0]), `${hits} of ${N} vs ${loads[0]}%`).toBe(true);
      expect(firstSecond.length).toBeGreaterThan(50);
      expect(withinBounds(inTier0(firstSecond), firstSecond.length, loads[0])).toBe(true);
    },
  );
});

describe('the priority-load table, in the kernel', () => {
  // Factor 100% and n = 100 make a tier's health its ready count: the agent writes the counts, so
  // each tier needs only one endpoint to send connects to.
  it.each(HEALTH_CASES.map((c, i) => ({ ...c, i })))('healths $healths give loads $loads', async ({ healths, loads, i }) => {
    const port = 250 + i;
    k.dp.writer.apply({
      key: { address: VIP, port, protocol: 'TCP' },
      label: 'test/priority-load',
      mode: 'SPILLOVER',
      tiers: healths.map((_, t) => [be(T0[t]!, LISTEN)]),
      spillover: { overprovisionPercent: 100, endpoints: healths.map(() => 100), ready: [...healths] },
    });
    const got = await connects(port, N);
    const shares = tally(got);
    console.log(`healths ${healths.join('/')}: ${JSON.stringify(shares)} (expected ${loads.join('/')}%)`);
    // No tier with health: FAILOVER, all to the first non-empty tier.
    const expected = loads.every((l) => l === 0) ? healths.map((_, t) => (t === 0 ? 100 : 0)) : loads;
    expected.forEach((load, t) => {
      const hits = shares[`t0-${t}`] ?? 0;
      expect(withinBounds(hits, N, load), `tier ${t}: ${hits} of ${N} vs ${load}%`).toBe(true);
    });
  });
});

describe('churn', () => {
  it('ejections and endpoint changes together: no connect reaches an endpoint that is gone', async () => {
    let seed = 11;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return (seed >>> 16) % n; // the high bits: an LCG's low bits repeat with a short period
    };
    const port = 300;
    const outlier: OutlierSpec = { consecutiveFailures: 1, maxEjectionPercent: 100, baseEjectionMs: 200, intervalMs: 1000 };
    const live = [...CHURN];
    /** Pod name -> when the apply that removed it for good had finished. */
    const goneAt = new Map<string, number>();
    const randomSpec = (): ServiceSpec => {
      // Two tiers; about one endpoint in four refuses (a closed port), so sock_ops keeps ejecting;
      // n counts a not-ready endpoint or two the spec leaves out.
      const tiers: BackendSpec[][] = [[], []];
      for (const p of live) tiers[rand(2)]!.push(be(p.address, rand(4) === 0 ? 9 : LISTEN));
      const ready = tiers.map((t) => t.length);
      return {
        key: { address: VIP, port, protocol: 'TCP' },
        label: 'test/spillover-churn',
        mode: 'SPILLOVER',
        tiers,
        spillover: { overprovisionPercent: FACTOR, endpoints: ready.map((r) => r + rand(2)), ready },
        outlier,
      };
    };

    k.dp.writer.apply(randomSpec());
    const loop = await client.loop({ address: VIP, port, proto: 'tcp', durationMs: 4000, maxCount: 20_000, timeoutMs: 500 });
    const until = nowMs() + 3500;
    let changes = 0;
    while (nowMs() < until) {
      // Every fifth change retires one endpoint for good, down to three.
      const retired = changes % 5 === 4 && live.length > 3 ? live.splice(rand(live.length), 1)[0] : undefined;
      k.dp.writer.apply(randomSpec());
      if (retired) goneAt.set(retired.name, nowMs());
      changes++;
      await new Promise((r) => setTimeout(r, rand(20)));
    }
    const results = await loop.finished();
    const id = k.dp.writer.serviceId({ address: VIP, port, protocol: 'TCP' })!;
    const ejections = readServiceEjections(k.dp.loaded.maps.svcEjections).get(id)?.total ?? 0;
    const stale = results.filter((r) => r.ok && goneAt.has(r.answer!) && r.t0 > goneAt.get(r.answer!)!);
    const refused = results.filter((r) => !r.ok).length;
    const errnos = tally(results.filter((r) => !r.ok));
    console.log(
      `spillover churn: ${results.length} connects, ${changes} writer changes, ${goneAt.size} endpoints gone, ` +
        `${ejections} kernel ejections, ${refused} failed connects ${JSON.stringify(errnos)}, ${stale.length} reached a gone endpoint`,
    );
    expect(changes).toBeGreaterThan(50);
    expect(goneAt.size).toBeGreaterThanOrEqual(5);
    expect(results.length - refused).toBeGreaterThan(500);
    expect(ejections).toBeGreaterThan(10);
    expect(stale).toEqual([]);
  });
});
