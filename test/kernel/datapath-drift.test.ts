// Drift repair in the real kernel: the maps are changed behind the writer's back (through the
// map handles or with bpftool on the pins, as an operator would), a client shows the damage,
// repairDrift() puts back what was programmed, and the client shows the repair. Every write the
// repair makes is recorded, to prove the order and that a healthy service is never touched.
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { KernelBpfMap as BpfMap } from '../../pkg/datapath/kernel-map.js';
import { backendId, backendValue, counterKey, slotKey, svcKey, svcValue } from '../../pkg/datapath/codecs.js';
import { type DriftReport, MapFullError, type ServiceKey } from '../../pkg/datapath/index.js';
import { run } from '../../lab/kernel-lab/index.js';
import type { Client } from '../../lab/kernel-lab/index.js';
import { be, kernelNode, type KernelNode, svc, tally } from './datapath-fixture.js';
import { ifSetUp } from '../fixtures/if-set-up.js';

const POD = { a: '10.244.7.10', b: '10.244.7.11', c: '10.244.7.12', x: '10.244.7.13' };
const A: ServiceKey = { address: '10.96.7.1', port: 80, protocol: 'TCP' };
const B: ServiceKey = { address: '10.96.7.2', port: 80, protocol: 'TCP' };
const STRAY: ServiceKey = { address: '10.96.7.9', port: 80, protocol: 'TCP' };
const LABEL_A = '10.96.7.1:80/TCP';

let k: KernelNode;
let client: Client;

beforeAll(async () => {
  k = await kernelNode('drift');
  for (const [name, address] of Object.entries(POD)) {
    await k.lab.addPod(`pod-${name}`, [address], [{ port: 8080, proto: 'tcp' }]);
  }
  client = await k.node.client();
});

afterAll(async () => {
  await ifSetUp(client)?.close();
  await ifSetUp(k)?.destroy();
});

const maps = () => k.dp.loaded.maps;
const writer = () => k.dp.writer;
const tcp = async (key: ServiceKey, count = 20) =>
  tally(await client.connect({ address: key.address, port: key.port, proto: 'tcp', count }));
const pinned = (map: string): string => join(k.node.pinRoot, 'maps', map);
const hexArgs = (b: Buffer): string[] => [...b].map((x) => x.toString(16).padStart(2, '0'));
const bpftool = (...args: string[]) => run('bpftool', args);

/** A: FAILOVER pod-a then pod-b. B: pod-c alone, the healthy bystander of every case. */
function programBoth(): void {
  for (const s of writer().programmed()) writer().remove(s.key);
  writer().apply(svc(A.address, A.port, 'FAILOVER', [[be(POD.a)], [be(POD.b)]]));
  writer().apply(svc(B.address, B.port, 'FAILOVER', [[be(POD.c)]]));
}

const idOf = (key: ServiceKey): number => writer().serviceId(key)!;
const backendOf = (key: ServiceKey, tier = 0, index = 0): number => writer().get(key)!.tiers[tier]![index]!.id;

interface MapWrite {
  map: string;
  op: 'update' | 'delete';
  key: Buffer;
}

/** Records every write through the writer's map handles until stop(). */
function recordWrites(): { writes: MapWrite[]; stop(): void } {
  const writes: MapWrite[] = [];
  const { services, slots, backends, revNat, counters } = maps();
  const handles: BpfMap[] = [services, slots, backends, revNat, counters];
  for (const map of handles) {
    // Own properties shadow the class methods; deleting them in stop() restores the originals.
    const update = map.update.bind(map);
    const remove = map.delete.bind(map);
    map.update = (key, value, flags) => {
      writes.push({ map: map.name, op: 'update', key: Buffer.from(key) });
      update(key, value, flags);
    };
    map.delete = (key) => {
      writes.push({ map: map.name, op: 'delete', key: Buffer.from(key) });
      return remove(key);
    };
    const refuse = (what: string) => (): never => {
      throw new Error(`repairDrift must not use ${what}`);
    };
    map.updateBatch = refuse('updateBatch');
  }
  const stop = (): void => {
    for (const map of handles) {
      for (const method of ['update', 'delete', 'updateBatch']) Reflect.deleteProperty(map, method);
    }
  };
  return { writes, stop };
}

/** Runs one repair with every write recorded. */
function repair(): { report: DriftReport; writes: MapWrite[] } {
  const rec = recordWrites();
  try {
    return { report: writer().repairDrift(), writes: rec.writes };
  } finally {
    rec.stop();
  }
}

/** Whether a write touched anything of service `key` (its entry, slots, counters, backends). */
function touches(w: MapWrite, key: ServiceKey, id: number, backends: number[]): boolean {
  switch (w.map) {
    case 'services':
      return w.key.equals(svcKey.encode(key));
    case 'slots':
      return slotKey.decode(w.key).svcId === id;
    case 'counters':
      return counterKey.decode(w.key).svcId === id;
    case 'backends':
      return backends.includes(backendId.decode(w.key));
    default:
      return true;
  }
}

/**
 * The safe order: every backend write before any slot write, a service's slots before its
 * entry, and all deletions after the writes as service entries, slots, counters, backends.
 */
function expectSafeOrder(writes: MapWrite[]): void {
  const updates = writes.filter((w) => w.op === 'update');
  const firstDelete = writes.findIndex((w) => w.op === 'delete');
  if (firstDelete >= 0) expect(writes.slice(firstDelete).every((w) => w.op === 'delete')).toBe(true);
  const lastBackend = updates.map((w) => w.map).lastIndexOf('backends');
  expect(updates.slice(0, lastBackend + 1).every((w) => w.map === 'backends')).toBe(true);
  updates.forEach((w, i) => {
    if (w.map !== 'services') return;
    const id = svcValue.decode(maps().services.lookup(w.key)!).id;
    expect(updates.slice(i + 1).some((later) => later.map === 'slots' && slotKey.decode(later.key).svcId === id)).toBe(false);
  });
  const rank = { services: 0, slots: 1, counters: 2, backends: 3 } as Record<string, number>;
  const deletes = writes.filter((w) => w.op === 'delete').map((w) => rank[w.map]!);
  expect(deletes).toEqual([...deletes].sort((x, y) => x - y));
}

function expectBystanderUntouched(writes: MapWrite[]): void {
  const hits = writes.filter((w) => touches(w, B, idOf(B), [backendOf(B)]));
  expect(hits).toEqual([]);
}

const noRepairs = { services: 0, slots: 0, backends: 0 };
const noDeletes = { services: 0, slots: 0, backends: 0, counters: 0 };

beforeEach(async () => {
  writer().repairDrift(); // whatever a failed case left
  programBoth();
  expect(await tcp(A)).toEqual({ 'pod-a': 20 });
  expect(await tcp(B)).toEqual({ 'pod-c': 20 });
});

describe('repairDrift', () => {
  it('finds nothing and writes nothing when the kernel holds what was programmed', async () => {
    const idsBefore = writer()
      .programmed()
      .map((s) => s.id);
    const { report, writes } = repair();
    expect(report).toEqual({ rewritten: noRepairs, deleted: noDeletes, drifted: [], strays: [], failed: [], holes: 0 });
    expect(writes).toEqual([]);
    expect(
      writer()
        .programmed()
        .map((s) => s.id),
    ).toEqual(idsBefore);
    expect(await tcp(A)).toEqual({ 'pod-a': 20 });
  });

  it('rewrites a service entry deleted with bpftool', async () => {
    await bpftool('map', 'delete', 'pinned', pinned('services'), 'key', 'hex', ...hexArgs(svcKey.encode(A)));
    // No entry: the connect is not rewritten and the VIP has no route in the lab.
    expect(await tcp(A)).toEqual({ '!ENETUNREACH': 20 });

    const { report, writes } = repair();
    expect(report.rewritten).toEqual({ ...noRepairs, services: 1 });
    expect(report.deleted).toEqual(noDeletes);
    expect(report.drifted).toEqual([LABEL_A]);
    expect(writes.map((w) => `${w.op} ${w.map}`)).toEqual(['update services']);
    expectBystanderUntouched(writes);
    expect(await tcp(A)).toEqual({ 'pod-a': 20 });
    expect(await tcp(B)).toEqual({ 'pod-c': 20 });
  });

  it('rewrites a deleted slot', async () => {
    expect(maps().slots.delete(slotKey.encode({ svcId: idOf(A), tier: 0, index: 0 }))).toBe(true);
    expect(await tcp(A)).toEqual({ '!ECONNREFUSED': 20 });

    const { report, writes } = repair();
    expect(report.rewritten).toEqual({ ...noRepairs, slots: 1 });
    expect(report.drifted).toEqual([LABEL_A]);
    expect(writes.map((w) => `${w.op} ${w.map}`)).toEqual(['update slots']);
    expectBystanderUntouched(writes);
    expect(await tcp(A)).toEqual({ 'pod-a': 20 });
  });

  it("rewrites a slot that names another service's backend, and keeps that backend", async () => {
    maps().slots.update(slotKey.encode({ svcId: idOf(A), tier: 0, index: 0 }), backendId.encode(backendOf(B)));
    expect(await tcp(A)).toEqual({ 'pod-c': 20 });

    const { report, writes } = repair();
    expect(report.rewritten).toEqual({ ...noRepairs, slots: 1 });
    expect(report.deleted).toEqual(noDeletes);
    expectBystanderUntouched(writes);
    expect(await tcp(A)).toEqual({ 'pod-a': 20 });
    expect(await tcp(B)).toEqual({ 'pod-c': 20 });
  });

  it('rewrites a corrupted backend value', async () => {
    const id = backendOf(A);
    maps().backends.update(backendId.encode(id), backendValue.encode({ address: POD.x, port: 8080, nodeId: 0, terminating: false }));
    expect(await tcp(A)).toEqual({ 'pod-x': 20 });

    const { report, writes } = repair();
    expect(report.rewritten).toEqual({ ...noRepairs, backends: 1 });
    expect(report.drifted).toEqual([LABEL_A]);
    expect(writes.map((w) => `${w.op} ${w.map} ${backendId.decode(w.key)}`)).toEqual([`update backends ${id}`]);
    expectBystanderUntouched(writes);
    expect(await tcp(A)).toEqual({ 'pod-a': 20 });
  });

  it('puts back a wiped-out tier: backend, then slot, then entry', async () => {
    // Deleted entry first, so the tampering itself never exposes a half service.
    maps().services.delete(svcKey.encode(A));
    maps().slots.delete(slotKey.encode({ svcId: idOf(A), tier: 0, index: 0 }));
    maps().backends.delete(backendId.encode(backendOf(A)));
    expect(await tcp(A)).toEqual({ '!ENETUNREACH': 20 });

    const { report, writes } = repair();
    expect(report.rewritten).toEqual({ services: 1, slots: 1, backends: 1 });
    expect(writes.map((w) => `${w.op} ${w.map}`)).toEqual(['update backends', 'update slots', 'update services']);
    expectBystanderUntouched(writes);
    expect(await tcp(A)).toEqual({ 'pod-a': 20 });
  });

  it('deletes a stray service added with bpftool, with its slot, counters and backend', async () => {
    const strayId = 900;
    const strayBackend = 9000;
    const update = (map: string, key: Buffer, value: Buffer) =>
      bpftool('map', 'update', 'pinned', pinned(map), 'key', 'hex', ...hexArgs(key), 'value', 'hex', ...hexArgs(value));
    await update(
      'backends',
      backendId.encode(strayBackend),
      backendValue.encode({ address: POD.x, port: 8080, nodeId: 0, terminating: false }),
    );
    await update('slots', slotKey.encode({ svcId: strayId, tier: 0, index: 0 }), backendId.encode(strayBackend));
    await update('services', svcKey.encode(STRAY), svcValue.encode({ id: strayId, mode: 'FAILOVER', counts: [1], weights: [] }));
    expect(await tcp(STRAY)).toEqual({ 'pod-x': 20 });
    expect(k.dp.counters().some((c) => c.svcId === strayId)).toBe(true);

    const { report, writes } = repair();
    expect(report.rewritten).toEqual(noRepairs);
    expect(report.deleted).toEqual({ services: 1, slots: 1, backends: 1, counters: 1 });
    expect(report.strays).toEqual(['10.96.7.9:80/TCP']);
    expect(report.drifted).toEqual([]);
    expect(writes.map((w) => `${w.op} ${w.map}`)).toEqual([
      'delete services',
      'delete slots',
      ...new Array<string>(8).fill('delete counters'),
      'delete backends',
    ]);
    expectBystanderUntouched(writes);
    expect(k.dp.counters().some((c) => c.svcId === strayId)).toBe(false);
    expect(await tcp(STRAY)).toEqual({ '!ENETUNREACH': 20 });
    expect(await tcp(A)).toEqual({ 'pod-a': 20 });
  });

  it('lowers a raised count before deleting the slot past it, and deletes a backend nothing names', async () => {
    const id = idOf(A);
    maps().slots.update(slotKey.encode({ svcId: id, tier: 0, index: 1 }), backendId.encode(backendOf(B)));
    maps().services.update(svcKey.encode(A), svcValue.encode({ id, mode: 'FAILOVER', counts: [2, 1], weights: [] }));
    maps().backends.update(backendId.encode(9100), backendValue.encode({ address: POD.x, port: 8080, nodeId: 0, terminating: false }));
    const before = await tcp(A, 60);
    expect(Object.keys(before).sort()).toEqual(['pod-a', 'pod-c']);

    const { report, writes } = repair();
    expect(report.rewritten).toEqual({ ...noRepairs, services: 1 });
    expect(report.deleted).toEqual({ ...noDeletes, slots: 1, backends: 1 });
    expect(writes.map((w) => `${w.op} ${w.map}`)).toEqual(['update services', 'delete slots', 'delete backends']);
    expectSafeOrder(writes);
    expectBystanderUntouched(writes);
    expect(await tcp(A, 60)).toEqual({ 'pod-a': 60 });
  });

  it('repairs several kinds of drift in one scan, in the safe order, and a second scan finds nothing', async () => {
    const id = idOf(A);
    maps().services.update(svcKey.encode(A), svcValue.encode({ id, mode: 'STRICT', counts: [1, 1], weights: [] }));
    maps().slots.delete(slotKey.encode({ svcId: id, tier: 1, index: 0 }));
    maps().backends.update(
      backendId.encode(backendOf(A)),
      backendValue.encode({ address: POD.x, port: 8080, nodeId: 0, terminating: false }),
    );
    maps().slots.update(slotKey.encode({ svcId: 4242, tier: 0, index: 0 }), backendId.encode(backendOf(A)));
    expect(await tcp(A)).toEqual({ 'pod-x': 20 });

    const first = repair();
    expect(first.report.rewritten).toEqual({ services: 1, slots: 1, backends: 1 });
    expect(first.report.deleted).toEqual({ ...noDeletes, slots: 1 });
    expect(first.report.drifted).toEqual([LABEL_A]);
    expectSafeOrder(first.writes);
    expectBystanderUntouched(first.writes);
    expect(await tcp(A)).toEqual({ 'pod-a': 20 });

    // Tier 0 gone: FAILOVER must fall to the repaired tier 1.
    writer().apply(svc(A.address, A.port, 'FAILOVER', [[], [be(POD.b)]]));
    expect(await tcp(A)).toEqual({ 'pod-b': 20 });
    const second = repair();
    expect(second.writes).toEqual([]);
    expect(second.report.drifted).toEqual([]);
  });

  it('a rewrite refused by a full map names the service, leaves it as it was, and the next scan finishes', async () => {
    // Strays fill the services map (SMALL_SIZES: 256 entries) after A's entry is deleted.
    maps().services.delete(svcKey.encode(A));
    const strays = Array.from({ length: k.dp.loaded.sizes.services - 1 }, (_, i) => ({ ...STRAY, port: 1000 + i }));
    for (const [i, key] of strays.entries()) {
      maps().services.update(svcKey.encode(key), svcValue.encode({ id: 5000 + i, mode: 'RANDOM', counts: [], weights: [] }));
    }

    const first = repair();
    expect(first.report.failed.map((f) => f.service)).toEqual([LABEL_A]);
    expect(first.report.failed[0]!.error).toBeInstanceOf(MapFullError);
    expect(first.report.rewritten).toEqual(noRepairs);
    expect(first.report.deleted.services).toBe(strays.length);
    expectBystanderUntouched(first.writes);
    expect(await tcp(A)).toEqual({ '!ENETUNREACH': 20 });
    expect(await tcp(B)).toEqual({ 'pod-c': 20 });

    const second = repair();
    expect(second.report.failed).toEqual([]);
    expect(second.report.rewritten).toEqual({ ...noRepairs, services: 1 });
    expect(await tcp(A)).toEqual({ 'pod-a': 20 });
  });

  it('under load, a connect never meets a half-repaired service', async () => {
    // Each round wipes A out and repairs it. A repair out of order would publish the entry
    // before its slot or backend: ECONNREFUSED. The wipe deletes the entry first and waits
    // before deleting the rest, because a connect on the other core may have read the entry
    // a moment before: deleting its slot under it is the test's tampering, not the repair's.
    // Rounds are counted, not timed, so a loaded machine makes the test slower, not red.
    const id = idOf(A);
    const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const wipe = async (): Promise<void> => {
      maps().services.delete(svcKey.encode(A));
      await pause(2);
      maps().slots.delete(slotKey.encode({ svcId: id, tier: 0, index: 0 }));
      maps().slots.delete(slotKey.encode({ svcId: id, tier: 1, index: 0 }));
      maps().backends.delete(backendId.encode(backendOf(A)));
      maps().backends.delete(backendId.encode(backendOf(A, 1)));
    };
    const loop = await client.loop({ address: A.address, port: A.port, proto: 'tcp', durationMs: 60_000, maxCount: 200_000 });
    const ROUNDS = 150;
    for (let round = 0; round < ROUNDS; round++) {
      await wipe();
      await pause(1);
      const report = writer().repairDrift();
      expect(report.rewritten).toEqual({ services: 1, slots: 2, backends: 2 });
      await pause(2);
    }
    const results = tally(await loop.stop());
    console.log(`drift under load: ${ROUNDS} wipe/repair rounds, connects: ${JSON.stringify(results)}`);
    expect(Object.keys(results).sort()).toEqual(['!ENETUNREACH', 'pod-a']);
  });
});
