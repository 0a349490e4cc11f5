// Whole-map reads through bpf_map_lookup_batch in the real kernel: they must give exactly what
// the key-by-key walk gives, for the hash maps the writer owns and for the per-CPU counters,
// over a single call or many small ones (the cursor hand-over), and a restarted writer and
// `nearbyctl maps` must read back through them what was programmed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KernelBpfMap as BpfMap } from '../../pkg/datapath/kernel-map.js';
import { backendId, backendValue, counterKey, slotKey } from '../../pkg/datapath/codecs.js';
import { libbpf } from '../../pkg/datapath/libbpf.js';
import { keyAt, type MapDump, valueAt } from '../../pkg/datapath/map-dump.js';
import { type ProgrammedService, readPinnedState } from '../../pkg/datapath/index.js';
import { be, kernelNode, type KernelNode, svc } from './datapath-fixture.js';
import { ifSetUp } from '../fixtures/if-set-up.js';

const SIZES = { services: 512, backends: 4096, slots: 4096, revNat: 1024, counters: 4096 };

let k: KernelNode;

beforeAll(async () => {
  k = await kernelNode('batch-read', SIZES);
});

afterAll(async () => {
  await ifSetUp(k)?.destroy();
});

const maps = () => k.dp.loaded.maps;

function entries(dump: MapDump): string[] {
  return Array.from({ length: dump.count }, (_, i) => `${keyAt(dump, i).toString('hex')}=${valueAt(dump, i).toString('hex')}`).sort();
}

function fill(map: BpfMap, rows: Array<[Buffer, Buffer]>): void {
  for (const [key, value] of rows) map.update(key, value);
}

function clear(map: BpfMap): void {
  for (const key of map.keys()) map.delete(key);
}

const byId = (services: readonly ProgrammedService[]): ProgrammedService[] => [...services].sort((a, b) => a.id - b.id);

describe('batched map reads', () => {
  it('read a hash map exactly as the key-by-key walk does, in one call or in many', () => {
    const rows: Array<[Buffer, Buffer]> = Array.from({ length: 3000 }, (_, i) => [
      slotKey.encode({ svcId: 100_000 + (i % 997), tier: i % 8, index: Math.floor(i / 997) }),
      backendId.encode(i + 1),
    ]);
    fill(maps().slots, rows);
    try {
      const walked = entries(maps().slots.dumpByKey());
      expect(walked).toHaveLength(3000);
      expect(entries(maps().slots.dump())).toEqual(walked);
      // Small batches: dozens of calls, each resuming at the cursor the last one returned.
      expect(entries(maps().slots.dump(50))).toEqual(walked);
      // One entry a call: any bucket with two entries needs the retry with more room.
      expect(entries(maps().slots.dump(1))).toEqual(walked);
    } finally {
      clear(maps().slots);
    }
    expect(maps().slots.dump().count).toBe(0);
  });

  it("read the per-CPU counters with every CPU's copy", () => {
    const cpus = libbpf.numPossibleCpus() as number;
    const rows: Array<[Buffer, Buffer]> = Array.from({ length: 200 }, (_, i) => {
      const value = Buffer.alloc(maps().counters.valueSize);
      for (let c = 0; c < cpus; c++) value.writeBigUInt64LE(BigInt(i * 100 + c + 1), c * 32); // attempts, per CPU
      return [counterKey.encode({ svcId: 200_000 + i, tier: i % 8 }), value];
    });
    fill(maps().counters, rows);
    try {
      const walked = entries(maps().counters.dumpByKey());
      expect(walked).toHaveLength(200);
      expect(entries(maps().counters.dump())).toEqual(walked);
      expect(entries(maps().counters.dump(7))).toEqual(walked);
      const counters = k.dp.counters().find((c) => c.svcId === 200_005)!;
      const expected = Array.from({ length: cpus }, (_, c) => 500 + c + 1).reduce((a, b) => a + b, 0);
      expect({ tier: counters.tier, attempts: counters.attempts }).toEqual({ tier: 5, attempts: BigInt(expected) });
    } finally {
      clear(maps().counters);
    }
  });

  it('let a restarted writer read back 300 services, collect strays, and program the same', () => {
    const pod = (i: number): string => `10.244.${20 + (i >> 8)}.${i & 255}`;
    const specs = Array.from({ length: 300 }, (_, s) =>
      svc(`10.96.${20 + (s >> 8)}.${s & 255}`, 80, 'FAILOVER', [[be(pod(s * 3))], [be(pod(s * 3 + 1)), be(pod(s * 3 + 2))]]),
    );
    const bulk = k.dp.writer.applyMany(specs);
    expect(bulk.failed).toEqual([]);
    const before = byId(k.dp.writer.programmed());
    // What an interrupted writer leaves: a slot no entry reaches, a backend no slot names.
    maps().slots.update(slotKey.encode({ svcId: 9_999, tier: 0, index: 0 }), backendId.encode(1));
    maps().backends.update(
      backendId.encode(77_777),
      backendValue.encode({ address: '10.244.99.1', port: 1, nodeId: 0, terminating: false }),
    );

    const dp = k.reopen();
    expect(dp.writer.readBack).toEqual({ services: 300, backends: 900, holes: 0, collected: 2 });
    expect(byId(dp.writer.programmed())).toEqual(before);
    expect(maps().slots.dump().count).toBe(900);
    expect(maps().backends.dump().count).toBe(900);
    // nearbyctl's read-only view goes through the same batched reads.
    const pinned = readPinnedState(k.node.pinRoot);
    expect({ services: byId(pinned.services), backends: pinned.backends, holes: pinned.holes }).toEqual({
      services: before,
      backends: 900,
      holes: 0,
    });
    // And a new service after the restart gets ids above every one read back.
    const next = dp.writer.apply(svc('10.96.30.1', 80, 'FAILOVER', [[be('10.244.30.1')]]));
    expect(next.id).toBeGreaterThan(Math.max(...before.map((s) => s.id)));
    expect(next.tiers[0]![0]!.id).toBeGreaterThan(Math.max(...before.flatMap((s) => s.tiers.flat().map((b) => b.id))));
    for (const s of dp.writer.programmed()) dp.writer.remove(s.key);
  });

  it('keep IPv6 backends shared by address across spellings, through a bulk load and a restart', () => {
    // Two spellings of each pod address: the writer must see one backend per address:port.
    const long = (i: number): string => `FD00:0244:0000:0000:0000:0000:0000:${(i + 1).toString(16).toUpperCase()}`;
    const short = (i: number): string => `fd00:244::${(i + 1).toString(16)}`;
    const specs = Array.from({ length: 40 }, (_, s) =>
      svc(`fd00:96::${(s + 1).toString(16)}`, 80, 'FAILOVER', [
        [be(long(s % 10))],
        [be(short((s + 1) % 10)), be(long((s + 2) % 10), 9090)],
      ]),
    );
    expect(k.dp.writer.applyMany(specs).failed).toEqual([]);
    expect(maps().backends.dump().count).toBe(20); // 10 addresses x 2 ports
    const before = byId(k.dp.writer.programmed());
    expect(before[0]!.tiers[0]![0]!.address).toBe('fd00:244::1');

    const dp = k.reopen();
    expect(dp.writer.readBack).toEqual({ services: 40, backends: 20, holes: 0, collected: 0 });
    expect(byId(dp.writer.programmed())).toEqual(before);
    // The same specs again, spelled the other way: found, not added.
    const respell = (address: string): string => address.toLowerCase().replace(/:0000/g, ':0');
    const respelled = specs.map((spec) => ({
      ...spec,
      tiers: spec.tiers.map((tier) => tier.map((b) => ({ ...b, address: respell(b.address) }))),
    }));
    expect(dp.writer.applyMany(respelled).failed).toEqual([]);
    expect(maps().backends.dump().count).toBe(20);
    expect(byId(dp.writer.programmed())).toEqual(before);
    expect(dp.writer.get({ address: 'FD00:96:0::1', port: 80, protocol: 'TCP' })?.id).toBe(before[0]!.id);
  });
});
