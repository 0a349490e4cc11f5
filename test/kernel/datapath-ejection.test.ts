// Passive ejection in the real kernel (docs/outlier-detection.md): sock_ops counts failed TCP
// connects per backend and ejects at the threshold; connect() skips ejected backends, moving to
// the next tier when a whole tier is ejected. A refused backend is a port nothing listens on
// (RST at once); a black-holed one is a pod whose SYNs an nft rule in the lab's netns drops.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Client, type ConnectResult, kernelEnv, netnsPath, run } from '../../lab/kernel-lab/index.js';
import {
  monotonicNs,
  type OutlierSpec,
  readBackendHealth,
  readEjected,
  readPinnedState,
  readServiceEjections,
  type ServiceSpec,
} from '../../pkg/datapath/index.js';
import { backendHealth, backendId } from '../../pkg/datapath/codecs.js';
import { mapsText } from '../../cmd/ctl/maps.js';
import { ifSetUp } from '../fixtures/if-set-up.js';
import { be, kernelNode, type KernelNode, svc } from './datapath-fixture.js';

const VIP = '10.96.0.40';
const LISTEN = 8080;
const CLOSED = 9; // nothing listens here: a connect gets RST (ECONNREFUSED) at once
const POD_COUNT = 12;
const pod = (i: number): string => `10.244.5.${i + 1}`;
const FAR = '10.244.6.1';
const BLACKHOLE = '10.244.7.1';

let k: KernelNode;
let client: Client;

beforeAll(async () => {
  k = await kernelNode('eject');
  const ports = [{ port: LISTEN, proto: 'tcp' as const }];
  for (let i = 0; i < POD_COUNT; i++) await k.lab.addPod(`pod-${i}`, [pod(i)], ports);
  await k.lab.addPod('pod-far', [FAR], ports);
  await k.lab.addPod('pod-hole', [BLACKHOLE], ports);
  client = await k.node.client();
});

afterAll(async () => {
  await ifSetUp(client)?.close();
  await ifSetUp(k)?.destroy();
});

const outlier = (o: Partial<OutlierSpec> = {}): OutlierSpec => ({
  consecutiveFailures: 3,
  maxEjectionPercent: 100,
  baseEjectionMs: 1000,
  intervalMs: 10_000,
  ...o,
});

const spec = (
  port: number,
  tiers: Array<Array<[string, number]>>,
  o: OutlierSpec,
  mode: ServiceSpec['mode'] = 'FAILOVER',
): ServiceSpec => ({
  ...svc(
    VIP,
    port,
    mode,
    tiers.map((t) => t.map(([address, p]) => be(address, p))),
  ),
  balance: 'ROUND_ROBIN',
  outlier: o,
});

const connects = (port: number, count: number, timeoutMs = 1000): Promise<ConnectResult[]> =>
  client.connect({ address: VIP, port, proto: 'tcp', count, timeoutMs });
const answers = (results: ConnectResult[]): string[] => results.map((r) => r.answer ?? `!${r.errno}`);
const failures = (results: ConnectResult[]): number => results.filter((r) => !r.ok).length;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function backendIdOf(port: number, address: string, backendPort: number): number {
  const programmed = k.dp.writer.get({ address: VIP, port, protocol: 'TCP' })!;
  return programmed.tiers.flat().find((b) => b.address === address && b.port === backendPort)!.id;
}

/** Connects until `n` have failed in a row counted from the first, and the time that took. */
function failedBeforeEjection(results: ConnectResult[]): { connects: number; ms: number } {
  const failed = results.filter((r) => !r.ok);
  return { connects: failed.length, ms: failed.length ? Math.round(failed.at(-1)!.t1 - results[0]!.t0) : 0 };
}

describe('passive ejection', () => {
  it('ejects a refused backend after exactly the threshold of failed connects, and only it', async () => {
    k.dp.writer.apply(
      spec(
        100,
        [
          [
            [pod(0), CLOSED],
            [pod(1), LISTEN],
          ],
        ],
        outlier({ consecutiveFailures: 3, maxEjectionPercent: 10 }),
      ),
    );
    const got = await connects(100, 20);
    const before = failedBeforeEjection(got);
    console.log(`refused backend: ${before.connects} failed connects, ${before.ms} ms before ejection`);
    // Round robin alternates: the three failures come on connects 1, 3 and 5, then none.
    expect(before.connects).toBe(3);
    expect(answers(got).slice(6)).toEqual(new Array(14).fill('pod-1'));
    // Two endpoints at 10%: Envoy's rule still lets one be ejected.
    const ejected = readEjected(k.dp.loaded.maps.backendHealth);
    expect([...ejected.keys()]).toEqual([backendIdOf(100, pod(0), CLOSED)]);
    expect(ejected.get(backendIdOf(100, pod(0), CLOSED))!.remainingMs).toBeLessThanOrEqual(1000);
    const id = k.dp.writer.serviceId({ address: VIP, port: 100, protocol: 'TCP' })!;
    expect(readServiceEjections(k.dp.loaded.maps.svcEjections).get(id)).toEqual({
      total: 1,
      active: 1,
      activeByTier: [1, 0, 0, 0, 0, 0, 0, 0],
    });
  });

  it('ejects a black-holed backend (SYNs dropped) once the connects time out', async () => {
    const nft = (script: string): Promise<unknown> =>
      run(kernelEnv().nsenter, [`--net=${netnsPath(k.lab.netns)}`, '--', 'nft', '-f', '-'], { input: script });
    await nft(
      `table inet nearby_test {\n chain input {\n  type filter hook input priority 0;\n  ip daddr ${BLACKHOLE} meta l4proto tcp drop\n }\n}\n`,
    );
    try {
      k.dp.writer.apply(
        spec(
          101,
          [
            [
              [BLACKHOLE, LISTEN],
              [pod(2), LISTEN],
            ],
          ],
          outlier({ consecutiveFailures: 2 }),
        ),
      );
      const got = await connects(101, 12, 300);
      const before = failedBeforeEjection(got);
      console.log(`black-holed backend: ${before.connects} failed connects, ${before.ms} ms before ejection (300 ms connect timeout)`);
      expect(before.connects).toBe(2);
      expect(got.filter((r) => !r.ok).every((r) => r.errno === 'ETIMEDOUT')).toBe(true);
      expect(answers(got).slice(4)).toEqual(new Array(8).fill('pod-2'));

      // An application with a long connect timeout: the first SYN retransmission timeout (1 s)
      // already counts, so the ejection starts well before the application gives up.
      k.dp.writer.apply(
        spec(
          109,
          [
            [
              [BLACKHOLE, LISTEN + 1],
              [pod(2), LISTEN],
            ],
          ],
          outlier({ consecutiveFailures: 1, baseEjectionMs: 3000 }),
        ),
      );
      const slow = await connects(109, 2, 2500);
      expect(failures(slow)).toBe(1);
      const left = readEjected(k.dp.loaded.maps.backendHealth).get(backendIdOf(109, BLACKHOLE, LISTEN + 1))!.remainingMs;
      console.log(`black-holed, 2.5 s app timeout: ${Math.round(3000 - left)} ms of the 3 s ejection already passed when the app gave up`);
      expect(left).toBeLessThan(2000);
      expect(left).toBeGreaterThan(1000);
    } finally {
      await nft('delete table inet nearby_test');
    }
  });

  it('re-admits the backend after baseEjectionTime with its failure count reset', async () => {
    k.dp.writer.apply(
      spec(
        102,
        [
          [
            [pod(3), CLOSED],
            [pod(4), LISTEN],
          ],
        ],
        outlier({ consecutiveFailures: 2, baseEjectionMs: 1000 }),
      ),
    );
    const id = backendIdOf(102, pod(3), CLOSED);
    expect(failures(await connects(102, 10))).toBe(2);
    expect(readBackendHealth(k.dp.loaded.maps.backendHealth, id)).toMatchObject({ failures: 0, multiplier: 1, ejections: 1 });
    expect(failures(await connects(102, 6))).toBe(0);
    await sleep(1100);
    // Back in the rotation: it fails again, and it takes the full threshold to eject it again.
    const again = await connects(102, 10);
    expect(failures(again)).toBe(2);
    expect(readBackendHealth(k.dp.loaded.maps.backendHealth, id)).toMatchObject({ failures: 0, ejections: 2 });
  });

  it('makes a repeated ejection last base x times ejected (2x the second time)', async () => {
    k.dp.writer.apply(
      spec(
        103,
        [
          [
            [pod(5), CLOSED],
            [pod(6), LISTEN],
          ],
        ],
        outlier({ consecutiveFailures: 1, baseEjectionMs: 1000 }),
      ),
    );
    const id = backendIdOf(103, pod(5), CLOSED);
    const health = (): ReturnType<typeof readBackendHealth> => readBackendHealth(k.dp.loaded.maps.backendHealth, id);
    expect(failures(await connects(103, 4))).toBe(1);
    const first = Number(health()!.ejectedUntilNs - monotonicNs()) / 1e6;
    expect(health()!.multiplier).toBe(1);
    expect(first).toBeGreaterThan(800);
    expect(first).toBeLessThanOrEqual(1000);
    await sleep(first + 50);
    expect(failures(await connects(103, 4))).toBe(1);
    const second = Number(health()!.ejectedUntilNs - monotonicNs()) / 1e6;
    console.log(`ejection lengths: first ${Math.round(first)} ms left when read, second ${Math.round(second)} ms`);
    expect(health()!.multiplier).toBe(2);
    expect(second).toBeGreaterThan(1800);
    expect(second).toBeLessThanOrEqual(2000);
    // Still ejected after 1.2 s: no connect reaches it.
    await sleep(1200);
    expect(failures(await connects(103, 4))).toBe(0);
    await sleep(second - 1200 + 50);
    expect(failures(await connects(103, 4))).toBe(1);
  });

  it('lets the multiplier decay by one per interval spent healthy, so a later ejection is base x 1 again', async () => {
    k.dp.writer.apply(
      spec(
        120,
        [
          [
            [pod(7), CLOSED + 7000],
            [pod(8), LISTEN],
          ],
        ],
        outlier({ consecutiveFailures: 1, baseEjectionMs: 500, intervalMs: 200 }),
      ),
    );
    const id = backendIdOf(120, pod(7), CLOSED + 7000);
    const health = (): NonNullable<ReturnType<typeof readBackendHealth>> => readBackendHealth(k.dp.loaded.maps.backendHealth, id)!;
    expect(failures(await connects(120, 4))).toBe(1);
    expect(health().multiplier).toBe(1);
    // Re-admitted after 500 ms, then more than two 200 ms intervals without an ejection: the
    // multiplier (1) has decayed to 0, so the next ejection is 1 x base, where the test above,
    // ejected again within its interval, gets 2 x base.
    await sleep(Number(health().ejectedUntilNs - monotonicNs()) / 1e6 + 500);
    expect(failures(await connects(120, 4))).toBe(1);
    const length = Number(health().ejectedUntilNs - monotonicNs()) / 1e6;
    expect(health()).toMatchObject({ multiplier: 1, ejections: 2 });
    expect(length).toBeGreaterThan(300);
    expect(length).toBeLessThanOrEqual(500);
  });

  it('caps an ejection at max(300 s, base): base 200 s ejected a second time lasts 300 s, not 400 s', async () => {
    const key = { address: VIP, port: 121, protocol: 'TCP' as const };
    k.dp.writer.apply(
      spec(
        121,
        [
          [
            [pod(9), CLOSED + 7000],
            [pod(10), LISTEN],
          ],
        ],
        outlier({ consecutiveFailures: 1, baseEjectionMs: 200_000, intervalMs: 10_000 }),
      ),
    );
    const id = backendIdOf(121, pod(9), CLOSED + 7000);
    // The row sock_ops leaves after a first ejection that ended just now, written by hand because
    // reaching it for real takes 200 s: multiplier 1, not yet healthy for a whole interval.
    const now = monotonicNs();
    const row = {
      ejectedUntilNs: now - 1n,
      decayFromNs: now,
      failures: 0,
      multiplier: 1,
      ejections: 1,
      svcId: k.dp.writer.serviceId(key)!,
    };
    k.dp.loaded.maps.backendHealth.update(backendId.encode(id), backendHealth.encode(row));
    expect(failures(await connects(121, 4))).toBe(1);
    const health = readBackendHealth(k.dp.loaded.maps.backendHealth, id)!;
    const length = Number(health.ejectedUntilNs - monotonicNs()) / 1e6;
    expect(health).toMatchObject({ multiplier: 2, ejections: 2 });
    expect(length).toBeGreaterThan(299_000);
    expect(length).toBeLessThanOrEqual(300_000);
  });

  it('honours maxEjectionPercent: 10 failing backends at 10% have one ejected at a time', async () => {
    const tier: Array<[string, number]> = Array.from({ length: 10 }, (_, i) => [pod(i), CLOSED + 1000]);
    k.dp.writer.apply(spec(104, [tier], outlier({ consecutiveFailures: 1, maxEjectionPercent: 10, baseEjectionMs: 10_000 })));
    const got = await connects(104, 20);
    expect(failures(got)).toBe(20);
    const ids = new Set(tier.map(([a, p]) => backendIdOf(104, a, p)));
    const ejected = [...readEjected(k.dp.loaded.maps.backendHealth).keys()].filter((id) => ids.has(id));
    expect(ejected).toHaveLength(1);
    const id = k.dp.writer.serviceId({ address: VIP, port: 104, protocol: 'TCP' })!;
    expect(readServiceEjections(k.dp.loaded.maps.svcEjections).get(id)).toEqual({
      total: 1,
      active: 1,
      activeByTier: [1, 0, 0, 0, 0, 0, 0, 0],
    });
  });

  it('at 30% of 10 ejects three', async () => {
    const tier: Array<[string, number]> = Array.from({ length: 10 }, (_, i) => [pod(i), CLOSED + 2000]);
    k.dp.writer.apply(spec(105, [tier], outlier({ consecutiveFailures: 1, maxEjectionPercent: 30, baseEjectionMs: 10_000 })));
    await connects(105, 20);
    const ids = new Set(tier.map(([a, p]) => backendIdOf(105, a, p)));
    expect([...readEjected(k.dp.loaded.maps.backendHealth).keys()].filter((id) => ids.has(id))).toHaveLength(3);
  });

  it('fails over to the next tier when the whole tier is ejected; STRICT does not', async () => {
    const o = outlier({ consecutiveFailures: 1, baseEjectionMs: 1000 });
    k.dp.writer.apply(
      spec(
        106,
        [
          [
            [pod(7), CLOSED + 3000],
            [pod(8), CLOSED + 3000],
          ],
          [[FAR, LISTEN]],
        ],
        o,
      ),
    );
    const got = await connects(106, 12);
    console.log(`tier fully ejected: ${failures(got)} failed connects before failover`);
    expect(failures(got)).toBe(2);
    expect(answers(got).slice(2)).toEqual(new Array(10).fill('pod-far'));
    // STRICT never leaves tier 0: with every endpoint there ejected it keeps its pick (Envoy's panic).
    k.dp.writer.apply(spec(107, [[[pod(9), CLOSED + 3000]], [[FAR, LISTEN]]], o, 'STRICT'));
    const strict = await connects(107, 4);
    expect(answers(strict).every((a) => a === '!ECONNREFUSED')).toBe(true);
  });

  it('leaves services without outlier settings alone', async () => {
    k.dp.writer.apply({ ...svc(VIP, 108, 'FAILOVER', [[be(pod(10), CLOSED + 4000), be(pod(11), LISTEN)]]), balance: 'ROUND_ROBIN' });
    expect(failures(await connects(108, 20))).toBe(10);
    expect(readBackendHealth(k.dp.loaded.maps.backendHealth, backendIdOf(108, pod(10), CLOSED + 4000))).toBeUndefined();
  });

  it('shows ejected endpoints through the read-only pinned state (nearbyctl maps and explain)', async () => {
    k.dp.writer.apply(
      spec(
        110,
        [
          [
            [pod(11), CLOSED + 5000],
            [pod(10), LISTEN],
          ],
        ],
        outlier({ consecutiveFailures: 1, baseEjectionMs: 30_000 }),
      ),
    );
    await connects(110, 4);
    const state = readPinnedState(k.node.pinRoot);
    const id = backendIdOf(110, pod(11), CLOSED + 5000);
    expect(state.ejected.get(id)?.remainingMs).toBeGreaterThan(29_000);
    expect(mapsText(state)).toMatch(new RegExp(`${pod(11).replaceAll('.', '\\.')}:${CLOSED + 5000} ejected \\d+s`));
    // The pinned view carries each service's settings, so nearbyctl and the lab compare them with the plan.
    const programmed = state.services.find((p) => p.key.port === 110);
    expect(programmed?.outlier).toEqual(outlier({ consecutiveFailures: 1, baseEjectionMs: 30_000 }));
  });

  it('deletes the rows with the service and its backends', () => {
    const key = { address: VIP, port: 100, protocol: 'TCP' as const };
    const id = k.dp.writer.serviceId(key)!;
    const backend = backendIdOf(100, pod(0), CLOSED);
    k.dp.writer.remove(key);
    const row = backendId.encode(id);
    expect(k.dp.loaded.maps.outlier.lookup(row)).toBeUndefined();
    expect(k.dp.loaded.maps.svcEjections.lookup(row)).toBeUndefined();
    expect(readBackendHealth(k.dp.loaded.maps.backendHealth, backend)).toBeUndefined();
  });
});
