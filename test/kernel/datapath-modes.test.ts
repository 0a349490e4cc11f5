// The datapath in the real kernel: a client in the node's cgroup dials a VIP and the answer
// says which pod the connect() program chose. Topology as seed 000: the client's node is in
// region/zone1/subzone1; pods in s1 (same subzone), s2 (same zone) and z2 (other zone).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '../../lab/kernel-lab/index.js';
import { be, kernelNode, type KernelNode, svc, tally } from './datapath-fixture.js';
import { ifSetUp } from '../fixtures/if-set-up.js';

const VIP = '10.96.0.10';
const VIP6 = 'fd00:10:96::a';
const POD = { s1: '10.244.1.10', s2: '10.244.2.10', s2b: '10.244.2.11', z2: '10.244.3.10' };
const POD6 = { s1: 'fd00:10:244:1::a', s2: 'fd00:10:244:2::a', z2: 'fd00:10:244:3::a' };

let k: KernelNode;
let client: Client;

beforeAll(async () => {
  k = await kernelNode('modes');
  const ports = [
    { port: 8080, proto: 'tcp' as const },
    { port: 5353, proto: 'udp' as const },
  ];
  await k.lab.addPod('pod-s1', [POD.s1, POD6.s1], ports);
  await k.lab.addPod('pod-s2', [POD.s2, POD6.s2], ports);
  await k.lab.addPod('pod-s2b', [POD.s2b], ports);
  await k.lab.addPod('pod-z2', [POD.z2, POD6.z2], ports);
  client = await k.node.client();
});

afterAll(async () => {
  await ifSetUp(client)?.close();
  await ifSetUp(k)?.destroy();
});

const tcp = (address: string, count: number, port = 80) => client.connect({ address, port, proto: 'tcp', count });

describe('FAILOVER', () => {
  it('always reaches the same-subzone endpoint, then fails over to the same-zone one', async () => {
    const spec = svc(VIP, 80, 'FAILOVER', [[be(POD.s1)], [be(POD.s2)], [be(POD.z2)]]);
    k.dp.writer.apply(spec);
    expect(tally(await tcp(VIP, 100))).toEqual({ 'pod-s1': 100 });

    k.dp.writer.apply({ ...spec, tiers: [[], [be(POD.s2)], [be(POD.z2)]] });
    expect(tally(await tcp(VIP, 100))).toEqual({ 'pod-s2': 100 });
  });

  it('shares the best tier fairly: each of two endpoints gets at least 30% of 200', async () => {
    k.dp.writer.apply(svc(VIP, 80, 'FAILOVER', [[], [be(POD.s2), be(POD.s2b)], [be(POD.z2)]]));
    const t = tally(await tcp(VIP, 200));
    expect(Object.keys(t).sort()).toEqual(['pod-s2', 'pod-s2b']);
    expect(t['pod-s2']).toBeGreaterThanOrEqual(60);
    expect(t['pod-s2b']).toBeGreaterThanOrEqual(60);
  });

  it('works the same over IPv6', async () => {
    const spec = svc(VIP6, 80, 'FAILOVER', [[be(POD6.s1)], [be(POD6.s2)], [be(POD6.z2)]]);
    k.dp.writer.apply(spec);
    const first = await tcp(VIP6, 50);
    expect(tally(first)).toEqual({ 'pod-s1': 50 });
    expect(first[0]!.peer).toEqual({ address: VIP6, port: 80 });

    k.dp.writer.apply({ ...spec, tiers: [[], [be(POD6.s2)], [be(POD6.z2)]] });
    expect(tally(await tcp(VIP6, 50))).toEqual({ 'pod-s2': 50 });
  });
});

describe('STRICT', () => {
  it('uses only tier 0, and with tier 0 empty the connect is refused at once', async () => {
    const spec = svc(VIP, 81, 'STRICT', [[be(POD.s1)], [be(POD.s2)]]);
    k.dp.writer.apply(spec);
    expect(tally(await tcp(VIP, 50, 81))).toEqual({ 'pod-s1': 50 });

    k.dp.writer.apply({ ...spec, tiers: [[], [be(POD.s2)]] });
    const refused = await tcp(VIP, 20, 81);
    expect(tally(refused)).toEqual({ '!ECONNREFUSED': 20 });
    // "At once": no SYN ever leaves, so nothing waits for a timeout.
    for (const r of refused) expect(r.t1 - r.t0).toBeLessThan(500);
  });

  it('refuses UDP too, connected and unconnected', async () => {
    k.dp.writer.apply(svc(VIP, 53, 'STRICT', [[]], 'UDP'));
    for (const udp of ['connected', 'unconnected'] as const) {
      const r = await client.connect({ address: VIP, port: 53, proto: 'udp', udp, count: 3 });
      expect(tally(r)).toEqual({ '!ECONNREFUSED': 3 });
    }
  });
});

describe('RANDOM', () => {
  it('spreads over every endpoint of every tier', async () => {
    k.dp.writer.apply(svc(VIP, 82, 'RANDOM', [[be(POD.s1), be(POD.s2), be(POD.z2)]]));
    const t = tally(await tcp(VIP, 150, 82));
    expect(Object.keys(t).sort()).toEqual(['pod-s1', 'pod-s2', 'pod-z2']);
    for (const n of Object.values(t)) expect(n).toBeGreaterThanOrEqual(25);
  });
});

describe('WEIGHTED', () => {
  it('draws the tier by weight', async () => {
    k.dp.writer.apply(svc(VIP, 83, 'WEIGHTED', [[be(POD.s1)], [be(POD.z2)]], 'TCP', [80, 20]));
    const t = tally(await tcp(VIP, 200, 83));
    expect(Object.keys(t).sort()).toEqual(['pod-s1', 'pod-z2']);
    expect(t['pod-s1']).toBeGreaterThan(120);
    expect(t['pod-z2']).toBeGreaterThan(15);
  });
});

describe('UDP and the VIP the application sees', () => {
  it('balances connected UDP and getpeername shows the VIP', async () => {
    k.dp.writer.apply(svc(VIP, 53, 'FAILOVER', [[be(POD.s1, 5353)], [be(POD.s2, 5353)]], 'UDP'));
    const r = await client.connect({ address: VIP, port: 53, proto: 'udp', udp: 'connected', count: 20 });
    expect(tally(r)).toEqual({ 'pod-s1': 20 });
    for (const x of r) expect(x.peer).toEqual({ address: VIP, port: 53 });
  });

  it('balances unconnected UDP per datagram and the reply comes from the VIP', async () => {
    k.dp.writer.apply(svc(VIP, 53, 'FAILOVER', [[], [be(POD.s2, 5353)]], 'UDP'));
    const r = await client.connect({ address: VIP, port: 53, proto: 'udp', udp: 'unconnected', count: 20 });
    expect(tally(r)).toEqual({ 'pod-s2': 20 });
    for (const x of r) expect(x.peer).toEqual({ address: VIP, port: 53 });
  });

  it('getpeername on TCP shows the VIP, not the pod', async () => {
    k.dp.writer.apply(svc(VIP, 84, 'FAILOVER', [[be(POD.s1)]]));
    const [r] = await tcp(VIP, 1, 84);
    expect(r!.answer).toBe('pod-s1');
    expect(r!.peer).toEqual({ address: VIP, port: 84 });
  });

  it('leaves non-service destinations alone: an unknown VIP is unreachable, a pod address works', async () => {
    expect(tally(await tcp('10.96.99.99', 3))).toEqual({ '!ENETUNREACH': 3 });
    const [direct] = await client.connect({ address: POD.s2, port: 8080, proto: 'tcp', count: 1 });
    expect(direct!.answer).toBe('pod-s2');
    expect(direct!.peer).toEqual({ address: POD.s2, port: 8080 });
  });
});

describe('counters', () => {
  it('counts established connects per tier and refusals', async () => {
    k.dp.writer.apply(svc(VIP, 85, 'FAILOVER', [[], [be(POD.s2)]]));
    k.dp.writer.apply(svc(VIP, 86, 'STRICT', [[]]));
    await tcp(VIP, 10, 85);
    await tcp(VIP, 4, 86);
    const id85 = k.dp.writer.serviceId({ address: VIP, port: 85, protocol: 'TCP' });
    const id86 = k.dp.writer.serviceId({ address: VIP, port: 86, protocol: 'TCP' });
    const rows = k.dp.counters();
    const t1 = rows.find((r) => r.svcId === id85 && r.tier === 1);
    expect(t1).toMatchObject({ attempts: 10n, established: 10n, failed: 0n, refused: 0n });
    expect(rows.find((r) => r.svcId === id85 && r.tier === 0)).toBeUndefined();
    expect(rows.find((r) => r.svcId === id86 && r.tier === 0)).toMatchObject({ refused: 4n, attempts: 0n });
  });

  it('counts a handshake that fails (the pod is gone but still listed)', async () => {
    k.dp.writer.apply(svc(VIP, 87, 'FAILOVER', [[be(POD.s1, 9999)]])); // nothing listens on 9999
    const r = await tcp(VIP, 3, 87);
    expect(tally(r)).toEqual({ '!ECONNREFUSED': 3 });
    const id = k.dp.writer.serviceId({ address: VIP, port: 87, protocol: 'TCP' });
    expect(k.dp.counters().find((c) => c.svcId === id && c.tier === 0)).toMatchObject({ attempts: 3n, failed: 3n });
  });
});
