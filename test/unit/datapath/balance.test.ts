// A service's balance (loadBalancer.simple) is part of what the writer programs: stored in the
// service entry, compared by every equality, kept by read-back and drift repair. The rotation
// and open-connection rows the kernel keeps go when their service or backend goes.
import { describe, expect, it } from 'vitest';
import {
  InvalidServiceError,
  memoryMaps,
  sameService,
  sameSpec,
  type ServiceSpec,
  ServiceWriter,
  svcKey,
} from '../../../pkg/datapath/index.js';
import { backendId, svcValue } from '../../../pkg/datapath/codecs.js';
import { SIZES, be } from './writer-fixture.js';

const spec = (balance?: ServiceSpec['balance'], tiers = [[be(1), be(2)], [be(3)]]): ServiceSpec => ({
  key: { address: '10.96.0.1', port: 80, protocol: 'TCP' },
  label: 'test/balance',
  mode: 'FAILOVER',
  tiers,
  ...(balance ? { balance } : {}),
});
const entryOf = (maps: ReturnType<typeof memoryMaps>, s: ServiceSpec) => svcValue.decode(maps.services.lookup(svcKey.encode(s.key))!);
const row = (id: number): Buffer => backendId.encode(id);

describe('balance in the service entry', () => {
  it('is written as the spec says, RANDOM when it says nothing', () => {
    const maps = memoryMaps(SIZES);
    const writer = ServiceWriter.open(maps);
    writer.apply(spec());
    expect(entryOf(maps, spec()).balance).toBe('RANDOM');
    expect(writer.get(spec().key)!.balance).toBe('RANDOM');
    writer.apply(spec('LEAST_REQUEST'));
    expect(entryOf(maps, spec()).balance).toBe('LEAST_REQUEST');
  });

  it('makes a change of balance alone a change, and a write of the entry only', () => {
    const maps = memoryMaps(SIZES);
    const writer = ServiceWriter.open(maps);
    writer.apply(spec());
    expect(writer.matches(spec('RANDOM'))).toBe(true);
    expect(writer.matches(spec('ROUND_ROBIN'))).toBe(false);
    expect(sameSpec(spec(), spec('RANDOM'))).toBe(true);
    expect(sameSpec(spec(), spec('ROUND_ROBIN'))).toBe(false);
    expect(sameService(spec('ROUND_ROBIN'), writer.get(spec().key)!)).toBe(false);
    const writes = { services: maps.services.ops.writes, slots: maps.slots.ops.writes, backends: maps.backends.ops.writes };
    writer.apply(spec('ROUND_ROBIN'));
    expect(maps.services.ops.writes).toBe(writes.services + 1);
    expect(maps.slots.ops.writes).toBe(writes.slots);
    expect(maps.backends.ops.writes).toBe(writes.backends);
    expect(writer.matches(spec('ROUND_ROBIN'))).toBe(true);
    expect(sameService(spec('ROUND_ROBIN'), writer.get(spec().key)!)).toBe(true);
  });

  it('is applied in a bulk load too', () => {
    const maps = memoryMaps(SIZES);
    const writer = ServiceWriter.open(maps);
    expect(writer.applyMany([spec('ROUND_ROBIN')]).failed).toEqual([]);
    expect(entryOf(maps, spec()).balance).toBe('ROUND_ROBIN');
  });

  it('is read back by a restarted writer and put back by drift repair', () => {
    const maps = memoryMaps(SIZES);
    ServiceWriter.open(maps).apply(spec('LEAST_REQUEST'));
    const reopened = ServiceWriter.open(maps);
    expect(reopened.get(spec().key)!.balance).toBe('LEAST_REQUEST');
    expect(reopened.matches(spec('LEAST_REQUEST'))).toBe(true);

    const v = entryOf(maps, spec());
    maps.services.update(svcKey.encode(spec().key), svcValue.encode({ ...v, balance: 'RANDOM' }));
    expect(reopened.repairDrift().drifted).toEqual(['10.96.0.1:80/TCP']);
    expect(entryOf(maps, spec()).balance).toBe('LEAST_REQUEST');
  });

  it('refuses a balance it does not know, by the service', () => {
    const writer = ServiceWriter.open(memoryMaps(SIZES));
    expect(() => writer.apply({ ...spec(), balance: 'CONSISTENT' as unknown as ServiceSpec['balance'] })).toThrow(InvalidServiceError);
  });
});

describe('rotation and open-connection rows', () => {
  it('go with their service and their backends', () => {
    const maps = memoryMaps(SIZES);
    const writer = ServiceWriter.open(maps);
    const programmed = writer.apply(spec('ROUND_ROBIN'));
    const ids = programmed.tiers.flat().map((b) => b.id);
    // What connect and sock_ops would have created.
    maps.rotation.update(row(programmed.id), row(7));
    for (const id of ids) maps.backendConns.update(row(id), row(2));

    // Backend 10.244.0.1 leaves: its row goes, the others stay.
    writer.apply(spec('ROUND_ROBIN', [[be(2)], [be(3)]]));
    expect(maps.backendConns.lookup(row(ids[0]!))).toBeUndefined();
    expect(maps.backendConns.dump().count).toBe(2);
    expect(maps.rotation.dump().count).toBe(1);

    writer.remove(spec().key);
    expect(maps.rotation.dump().count).toBe(0);
    expect(maps.backendConns.dump().count).toBe(0);
  });

  it('are collected by a restarted writer when nothing names them', () => {
    const maps = memoryMaps(SIZES);
    const programmed = ServiceWriter.open(maps).apply(spec('LEAST_REQUEST'));
    const live = programmed.tiers.flat()[0]!.id;
    maps.backendConns.update(row(live), row(1));
    maps.backendConns.update(row(900), row(1)); // a close that came after its backend was deleted
    maps.rotation.update(row(programmed.id), row(3));
    maps.rotation.update(row(901), row(3));
    ServiceWriter.open(maps);
    expect(maps.backendConns.lookup(row(live))).toBeDefined();
    expect(maps.backendConns.lookup(row(900))).toBeUndefined();
    expect(maps.rotation.lookup(row(programmed.id))).toBeDefined();
    expect(maps.rotation.lookup(row(901))).toBeUndefined();
  });
});
