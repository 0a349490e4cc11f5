// sessionAffinity: ClientIP in the real kernel (docs/semantics.md, "Session affinity"). A client
// is a network namespace: each client here is an extra lab whose pods answer on the same
// addresses, and its connects run from a process in the node's cgroup inside that namespace.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KernelLab } from '../../lab/kernel-lab/index.js';
import { affinityRow } from '../../pkg/datapath/codecs.js';
import type { ModeName, ServiceSpec } from '../../pkg/datapath/index.js';
import { ifSetUp } from '../fixtures/if-set-up.js';
import { be, kernelNode, type KernelNode, svc } from './datapath-fixture.js';
import { connectFrom } from './netns-connector.js';

const VIP = '10.96.0.30';
const POD = { a: '10.244.1.10', b: '10.244.1.11', c: '10.244.1.12', far: '10.244.2.10' };
const NAME: Record<string, string> = { [POD.a]: 'pod-a', [POD.b]: 'pod-b', [POD.c]: 'pod-c', [POD.far]: 'pod-far' };
/** Clients, each its own network namespace: with three backends, eight clients all landing on
 * one backend by chance is 3 x (1/3)^8, about 1 in 2,200. */
const CLIENTS = 8;

let k: KernelNode;
const clients: KernelLab[] = [];

beforeAll(async () => {
  k = await kernelNode('affinity');
  const ports = [{ port: 8080, proto: 'tcp' as const }];
  for (const [address, name] of Object.entries(NAME)) await k.lab.addPod(name, [address], ports);
  for (let i = 0; i < CLIENTS; i++) {
    const lab = await KernelLab.create(`afc${i}`);
    clients.push(lab);
    for (const [address, name] of Object.entries(NAME)) await lab.addPod(name, [address], ports);
  }
});

afterAll(async () => {
  for (const lab of clients) await lab.destroy();
  await ifSetUp(k)?.destroy();
});

const sticky = (port: number, mode: ModeName, tiers: string[][], affinitySeconds?: number): ServiceSpec => ({
  ...svc(
    VIP,
    port,
    mode,
    tiers.map((t) => t.map((a) => be(a))),
  ),
  ...(affinitySeconds !== undefined ? { affinitySeconds } : {}),
});
const from = (client: KernelLab, port: number, count: number): Promise<string[]> =>
  connectFrom(k.node.cgroupPath, client.netns, VIP, port, count);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The one backend each client reaches over `count` connects, or the test fails. */
async function landings(port: number, count: number): Promise<string[]> {
  const out: string[] = [];
  for (const c of clients) {
    const got = await from(c, port, count);
    expect(new Set(got).size, `${c.netns}: ${got.join(',')}`).toBe(1);
    expect(got[0]).not.toMatch(/^!/);
    out.push(got[0]!);
  }
  return out;
}

/** Affinity rows of a service, by the map's own dump. */
function rowsOf(port: number): number {
  const id = k.dp.writer.get({ address: VIP, port, protocol: 'TCP' })!.id;
  const dump = k.dp.loaded.maps.affinity.dump();
  let n = 0;
  for (let i = 0; i < dump.count; i++) if (affinityRow.decodeKey(dump.keys, i * dump.keySize).svcId === id) n++;
  return n;
}

describe('sessionAffinity ClientIP', () => {
  it('keeps each client on one backend across many connects while clients spread over several', async () => {
    k.dp.writer.apply(sticky(80, 'RANDOM', [[POD.a, POD.b, POD.c]], 600));
    const got = await landings(80, 20);
    expect(new Set(got).size, got.join(',')).toBeGreaterThan(1);
    expect(rowsOf(80)).toBe(CLIENTS);
  });

  it('balances every connect when the service has no affinity, and keeps no rows for it', async () => {
    k.dp.writer.apply(sticky(81, 'RANDOM', [[POD.a, POD.b, POD.c]]));
    const got = await from(clients[0]!, 81, 30);
    expect(new Set(got).size, got.join(',')).toBeGreaterThan(1);
    expect(rowsOf(81)).toBe(0);
  });

  it('keeps the backend while the client comes back within the timeout, and lets it move once the timeout passed', async () => {
    k.dp.writer.apply(sticky(82, 'RANDOM', [[POD.a, POD.b, POD.c]], 2));
    const client = clients[0]!;
    // Each within the 2 s of the last (a connector starts in well under 1.7 s even on a busy
    // machine), over more than 2 s in all: the timeout counts from the last connect.
    const kept: string[] = [];
    for (let i = 0; i < 6; i++) {
      kept.push(...(await from(client, 82, 1)));
      await sleep(300);
    }
    expect(new Set(kept).size, kept.join(',')).toBe(1);
    // Past the timeout before each connect: each one is balanced afresh, so 8 of them reach more
    // than one backend (all alike by chance: (1/3)^7).
    const moved: string[] = [];
    for (let i = 0; i < 8; i++) {
      await sleep(2_300);
      moved.push(...(await from(client, 82, 1)));
    }
    expect(new Set(moved).size, moved.join(',')).toBeGreaterThan(1);
  }, 60_000);

  it('moves the clients of a removed backend, and only those, and the new choice sticks', async () => {
    const all = [POD.a, POD.b, POD.c];
    k.dp.writer.apply(sticky(83, 'RANDOM', [all], 600));
    const before = await landings(83, 5);
    // Remove the backend the first client is on; the writer fills its slot from the tail.
    const gone = before[0]!;
    k.dp.writer.apply(sticky(83, 'RANDOM', [all.filter((a) => NAME[a] !== gone)], 600));
    const after = await landings(83, 10);
    after.forEach((now, i) => {
      if (before[i] === gone) expect(now, `client ${i}`).not.toBe(gone);
      else expect(now, `client ${i} was on ${before[i]}`).toBe(before[i]);
    });
    // The new choices stick too.
    expect(await landings(83, 10)).toEqual(after);
  });

  it('moves a client stuck to a tier-1 backend to tier 0 once a tier-0 endpoint appears (FAILOVER)', async () => {
    k.dp.writer.apply(sticky(84, 'FAILOVER', [[], [POD.far, POD.c]], 600));
    const before = await landings(84, 5);
    for (const b of before) expect(['pod-far', 'pod-c']).toContain(b);
    k.dp.writer.apply(sticky(84, 'FAILOVER', [[POD.a], [POD.far, POD.c]], 600));
    expect(await landings(84, 5)).toEqual(clients.map(() => 'pod-a'));
    // Tier 0 gone again: back to tier 1, and that new choice sticks.
    k.dp.writer.apply(sticky(84, 'FAILOVER', [[], [POD.far, POD.c]], 600));
    const back = await landings(84, 5);
    for (const b of back) expect(['pod-far', 'pod-c']).toContain(b);
    expect(await landings(84, 5)).toEqual(back);
  });

  it('keeps a client whose backend changed tier when the policy still chooses that tier (FAILOVER)', async () => {
    k.dp.writer.apply(sticky(85, 'FAILOVER', [[], [POD.a, POD.b, POD.c]], 600));
    const before = await landings(85, 5);
    // Every backend moves to tier 0 (say, the node was labelled into the client's zone).
    k.dp.writer.apply(sticky(85, 'FAILOVER', [[POD.a, POD.b, POD.c], []], 600));
    expect(await landings(85, 5)).toEqual(before);
  });

  it('keeps each client on one backend in whichever tier the priority load drew for it (SPILLOVER)', async () => {
    // Tier 0: 1 ready of n = 4, health 25% x 1.4: it keeps 35% of connects, tier 1 the rest.
    const spilling = (port: number, affinitySeconds?: number): ServiceSpec => ({
      ...sticky(port, 'SPILLOVER', [[POD.a], [POD.far, POD.c]], affinitySeconds),
      spillover: { overprovisionPercent: 140, endpoints: [4, 2], ready: [1, 2] },
    });
    // Without affinity one client's connects go to both tiers (all 30 in one: 0.65^30, 2.5e-6).
    k.dp.writer.apply(spilling(86));
    const free = await from(clients[0]!, 86, 30);
    expect(new Set(free).size, free.join(',')).toBeGreaterThan(1);
    // With it, every client keeps the one backend it first reached, tier 0 or tier 1.
    k.dp.writer.apply(spilling(87, 600));
    const got = await landings(87, 20);
    for (const b of got) expect(['pod-a', 'pod-far', 'pod-c']).toContain(b);
    expect(rowsOf(87)).toBe(CLIENTS);
  });
});
