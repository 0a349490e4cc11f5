// SPILLOVER's counts are part of the service entry: written with it (one at a time and in bulk),
// compared by every equality so a change rewrites the entry, read back by a restarted writer,
// checked by drift repair, and refused when they do not go with the mode.
import { describe, expect, it } from 'vitest';
import {
  InvalidServiceError,
  memoryMaps,
  sameService,
  sameSpec,
  type ServiceSpec,
  ServiceWriter,
  type SpilloverSpec,
  STRUCTS,
  svcKey,
} from '../../../pkg/datapath/index.js';
import { svcValue } from '../../../pkg/datapath/codecs.js';
import { SIZES, be } from './writer-fixture.js';

const SPILL: SpilloverSpec = { overprovisionPercent: 140, endpoints: [4, 1], ready: [2, 1] };
const KEY = { address: '10.96.0.1', port: 80, protocol: 'TCP' } as const;
const spec = (spillover: SpilloverSpec | null = SPILL): ServiceSpec => ({
  key: KEY,
  label: 'test/spill',
  mode: spillover ? 'SPILLOVER' : 'FAILOVER',
  tiers: [[be(1), be(2)], [be(3)]],
  ...(spillover ? { spillover } : {}),
});
const entry = (maps: ReturnType<typeof memoryMaps>) => svcValue.decode(maps.services.lookup(svcKey.encode(KEY))!);

describe('SPILLOVER counts in the service entry', () => {
  it('the entry holds the factor, n and ready per tier at their offsets', () => {
    const maps = memoryMaps(SIZES);
    ServiceWriter.open(maps).apply(spec());
    const raw = maps.services.lookup(svcKey.encode(KEY))!;
    expect(raw.length).toBe(STRUCTS.nearby_svc_value.size);
    expect(raw.readUInt16LE(STRUCTS.nearby_svc_value.fields.overprovision[0])).toBe(140);
    expect(raw.readUInt16LE(STRUCTS.nearby_svc_value.fields.endpoints[0])).toBe(4);
    expect(raw.readUInt16LE(STRUCTS.nearby_svc_value.fields.ready[0] + 2)).toBe(1);
    expect(entry(maps)).toMatchObject({ mode: 'SPILLOVER', counts: [2, 1, 0, 0, 0, 0, 0, 0] });
    expect(entry(maps).spillover).toEqual({
      overprovisionPercent: 140,
      endpoints: [4, 1, 0, 0, 0, 0, 0, 0],
      ready: [2, 1, 0, 0, 0, 0, 0, 0],
    });
  });

  it('a change of n or ready alone rewrites the entry; the same counts do not', () => {
    const maps = memoryMaps(SIZES);
    const writer = ServiceWriter.open(maps);
    writer.apply(spec());
    expect(writer.matches(spec())).toBe(true);
    const changed = spec({ ...SPILL, endpoints: [5, 1] });
    expect(writer.matches(changed)).toBe(false);
    expect(sameSpec(spec(), changed)).toBe(false);
    expect(sameSpec(spec(), spec({ ...SPILL, endpoints: [4, 1, 0] }))).toBe(true);
    writer.apply(changed);
    expect(entry(maps).spillover?.endpoints[0]).toBe(5);
    expect(sameService(changed, writer.get(KEY)!)).toBe(true);
    writer.apply(spec(null));
    expect(entry(maps).spillover).toBeUndefined();
    expect(entry(maps).mode).toBe('FAILOVER');
  });

  it('a restarted writer reads the counts back, and bulk writes them too', () => {
    const maps = memoryMaps(SIZES);
    ServiceWriter.open(maps).apply(spec());
    expect(ServiceWriter.open(maps).matches(spec())).toBe(true);
    const bulk = memoryMaps(SIZES);
    ServiceWriter.open(bulk).applyMany([spec()]);
    expect(entry(bulk).spillover?.ready).toEqual([2, 1, 0, 0, 0, 0, 0, 0]);
  });

  it('drift repair puts back counts someone else changed', () => {
    const maps = memoryMaps(SIZES);
    const writer = ServiceWriter.open(maps);
    writer.apply(spec());
    const k = svcKey.encode(KEY);
    const raw = Buffer.from(maps.services.lookup(k)!);
    raw.writeUInt16LE(9, STRUCTS.nearby_svc_value.fields.ready[0]);
    maps.services.update(k, raw);
    writer.repairDrift();
    expect(entry(maps).spillover?.ready[0]).toBe(2);
  });

  it('SPILLOVER without counts, or counts without SPILLOVER, is refused before any write', () => {
    const writer = ServiceWriter.open(memoryMaps(SIZES));
    expect(() => writer.apply({ ...spec(), spillover: undefined })).toThrow(InvalidServiceError);
    expect(() => writer.apply({ ...spec(), mode: 'FAILOVER' })).toThrow(InvalidServiceError);
    expect(() => writer.apply(spec({ ...SPILL, overprovisionPercent: 0 }))).toThrow(InvalidServiceError);
  });
});
