// A MAGLEV tier is a table of M slots repeating N backends: the writer keeps it position by
// position, and a backend leaving rewrites only the slots that change (about M/N), not M.
import { describe, expect, it } from 'vitest';
import { type BackendSpec, memoryMaps, sameService, type ServiceSpec, ServiceWriter, svcKey } from '../../../pkg/datapath/index.js';
import { slotKey, svcValue } from '../../../pkg/datapath/codecs.js';
import { maglevTable } from '../../../pkg/reconciler/index.js';

const M = 1021;
const SIZES = { services: 16, backends: 64, slots: 4 * M, revNat: 16, counters: 128 };
const be = (last: number): BackendSpec => ({ address: `10.244.0.${last}`, port: 8080, nodeId: 1, terminating: false });
const ten = Array.from({ length: 10 }, (_, i) => be(i + 1));
const spec = (backends: readonly BackendSpec[]): ServiceSpec => ({
  key: { address: '10.96.0.1', port: 80, protocol: 'TCP' },
  label: 'test/maglev',
  mode: 'RANDOM',
  balance: 'MAGLEV',
  tiers: [maglevTable(backends, (b) => `${b.address}#${b.port}`, M)],
});
const addresses = (s: ServiceSpec): string[] => s.tiers[0]!.map((b) => b.address);

describe('a MAGLEV tier in the writer', () => {
  it('is written slot for slot, matched by position, and read back as written', () => {
    const maps = memoryMaps(SIZES);
    const writer = ServiceWriter.open(maps);
    const programmed = writer.apply(spec(ten));
    expect(programmed.tiers[0]!.map((b) => b.address)).toEqual(addresses(spec(ten)));
    expect(svcValue.decode(maps.services.lookup(svcKey.encode(spec(ten).key))!)).toMatchObject({
      balance: 'MAGLEV',
      counts: [M, 0, 0, 0, 0, 0, 0, 0],
    });
    expect(maps.backends.ops.writes).toBe(10);
    expect(writer.matches(spec(ten))).toBe(true);

    // The same backends in other positions is another table: not a match.
    const rotated: ServiceSpec = { ...spec(ten), tiers: [[...spec(ten).tiers[0]!.slice(1), spec(ten).tiers[0]![0]!]] };
    expect(writer.matches(rotated)).toBe(false);
    expect(sameService(rotated, writer.get(rotated.key)!)).toBe(false);

    const reopened = ServiceWriter.open(maps);
    expect(reopened.matches(spec(ten))).toBe(true);
    expect(sameService(spec(ten), reopened.get(spec(ten).key)!)).toBe(true);
  });

  it('rewrites about M/N slots when one of N backends goes, then the entry, and deletes the backend', () => {
    const maps = memoryMaps(SIZES);
    const writer = ServiceWriter.open(maps);
    writer.apply(spec(ten));
    const before = addresses(spec(ten));
    const nine = ten.slice(1);
    const changed = addresses(spec(nine)).filter((a, i) => a !== before[i]).length;
    const slotWrites = maps.slots.ops.writes;
    expect(writer.totals().endpointsByModeTier.RANDOM?.[0]).toBe(10);
    const entryWrites = maps.services.ops.writes;
    writer.apply(spec(nine));
    const written = maps.slots.ops.writes - slotWrites;
    expect(written).toBe(changed);
    expect(written).toBeGreaterThanOrEqual(Math.floor(M / 10));
    expect(written).toBeLessThan(0.15 * M);
    expect(maps.slots.ops.deletes).toBe(0);
    expect(maps.services.ops.writes).toBe(entryWrites + 1);
    expect(maps.backends.ops.deletes).toBe(1);
    expect(writer.matches(spec(nine))).toBe(true);
    expect(writer.totals().endpointsByModeTier.RANDOM?.[0]).toBe(9);
  });

  it('keeps every repeat in a bulk load', () => {
    const maps = memoryMaps(SIZES);
    const writer = ServiceWriter.open(maps);
    expect(writer.applyMany([spec(ten)]).failed).toEqual([]);
    expect(writer.get(spec(ten).key)!.tiers[0]!.map((b) => b.address)).toEqual(addresses(spec(ten)));
    expect(writer.matches(spec(ten))).toBe(true);
  });

  it('goes back to one slot per backend when the balance changes away from MAGLEV', () => {
    const maps = memoryMaps(SIZES);
    const writer = ServiceWriter.open(maps);
    writer.apply(spec(ten));
    const random: ServiceSpec = { ...spec(ten), balance: 'RANDOM', tiers: [ten] };
    writer.apply(random);
    expect(writer.get(random.key)!.tiers[0]).toHaveLength(10);
    expect(maps.slots.dump().count).toBe(10);
    expect(writer.matches(random)).toBe(true);
  });

  it('is put back slot for slot by drift repair', () => {
    const maps = memoryMaps(SIZES);
    const writer = ServiceWriter.open(maps);
    writer.apply(spec(ten));
    const id = writer.serviceId(spec(ten).key)!;
    const slot = slotKey.encode({ svcId: id, tier: 0, index: 7 });
    const right = Buffer.from(maps.slots.lookup(slot)!);
    const other = Buffer.from(
      maps.slots.lookup(
        slotKey.encode({
          svcId: id,
          tier: 0,
          index: [...Array(M).keys()].find((i) => !maps.slots.lookup(slotKey.encode({ svcId: id, tier: 0, index: i }))!.equals(right))!,
        }),
      )!,
    );
    maps.slots.update(slot, other);
    expect(writer.repairDrift().drifted).toEqual(['10.96.0.1:80/TCP']);
    expect(maps.slots.lookup(slot)).toEqual(right);
  });
});
