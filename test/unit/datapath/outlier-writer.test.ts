// A service's passive-ejection settings are part of what the writer programs: the outlier row is
// written before the service entry, compared by every equality, read back by a restarted
// writer, and deleted with the service; the health rows sock_ops keeps go with their backend.
import { describe, expect, it } from 'vitest';
import {
  InvalidServiceError,
  memoryMaps,
  type OutlierSpec,
  sameService,
  sameSpec,
  type ServiceSpec,
  ServiceWriter,
} from '../../../pkg/datapath/index.js';
import { backendId, outlierValue } from '../../../pkg/datapath/codecs.js';
import { SIZES, be } from './writer-fixture.js';

const OUTLIER: OutlierSpec = { consecutiveFailures: 2, maxEjectionPercent: 10, baseEjectionMs: 1500, intervalMs: 10_000 };
const spec = (outlier?: OutlierSpec, tiers = [[be(1), be(2)], [be(3)]]): ServiceSpec => ({
  key: { address: '10.96.0.1', port: 80, protocol: 'TCP' },
  label: 'test/outlier',
  mode: 'FAILOVER',
  tiers,
  ...(outlier ? { outlier } : {}),
});
const row = (id: number): Buffer => backendId.encode(id);

describe('outlier settings in the writer', () => {
  it('writes the row in nanoseconds before the entry, and only when the settings change', () => {
    const maps = memoryMaps(SIZES);
    const writer = ServiceWriter.open(maps);
    const id = writer.apply(spec(OUTLIER)).id;
    expect(outlierValue.decode(maps.outlier.lookup(row(id))!)).toEqual({
      consecutive: 2,
      maxPercent: 10,
      baseEjectionNs: 1_500_000_000n,
      intervalNs: 10_000_000_000n,
    });
    expect(writer.matches(spec(OUTLIER))).toBe(true);
    expect(writer.matches(spec())).toBe(false);
    expect(writer.matches(spec({ ...OUTLIER, consecutiveFailures: 3 }))).toBe(false);
    const writes = maps.outlier.ops.writes;
    writer.apply(spec(OUTLIER));
    expect(maps.outlier.ops.writes).toBe(writes);
    writer.apply(spec({ ...OUTLIER, maxEjectionPercent: 50 }));
    expect(outlierValue.decode(maps.outlier.lookup(row(id))!).maxPercent).toBe(50);
  });

  it('deletes the row when the settings go, and with the service', () => {
    const maps = memoryMaps(SIZES);
    const writer = ServiceWriter.open(maps);
    const id = writer.apply(spec(OUTLIER)).id;
    writer.apply(spec());
    expect(maps.outlier.lookup(row(id))).toBeUndefined();
    writer.apply(spec(OUTLIER));
    maps.svcEjections.update(row(id), Buffer.alloc(maps.svcEjections.valueSize));
    writer.remove(spec().key);
    expect(maps.outlier.dump().count).toBe(0);
    expect(maps.svcEjections.dump().count).toBe(0);
  });

  it('drops the health rows of backends it deletes, and a restart collects strays', () => {
    const maps = memoryMaps(SIZES);
    const writer = ServiceWriter.open(maps);
    const programmed = writer.apply(spec(OUTLIER));
    const ids = programmed.tiers.flat().map((b) => b.id);
    for (const id of ids) maps.backendHealth.update(row(id), Buffer.alloc(maps.backendHealth.valueSize));
    writer.apply(spec(OUTLIER, [[be(1), be(2)]]));
    expect(maps.backendHealth.dump().count).toBe(2);
    maps.backendHealth.update(row(900), Buffer.alloc(maps.backendHealth.valueSize)); // a failure after its backend went
    maps.outlier.update(row(901), outlierValue.encode({ consecutive: 1, maxPercent: 10, baseEjectionNs: 1n, intervalNs: 1n }));
    const again = ServiceWriter.open(maps);
    expect(maps.backendHealth.lookup(row(900))).toBeUndefined();
    expect(maps.outlier.lookup(row(901))).toBeUndefined();
    // The restarted writer read the settings back: the same spec is programmed as it is.
    expect(again.matches(spec(OUTLIER, [[be(1), be(2)]]))).toBe(true);
    expect(sameService(spec(OUTLIER, [[be(1), be(2)]]), again.get(spec().key)!)).toBe(true);
  });

  it('refuses settings the kernel cannot hold, and compares them in sameSpec', () => {
    const writer = ServiceWriter.open(memoryMaps(SIZES));
    expect(() => writer.apply(spec({ ...OUTLIER, consecutiveFailures: 0 }))).toThrow(InvalidServiceError);
    expect(() => writer.apply(spec({ ...OUTLIER, maxEjectionPercent: 101 }))).toThrow(InvalidServiceError);
    expect(sameSpec(spec(OUTLIER), spec(OUTLIER))).toBe(true);
    expect(sameSpec(spec(OUTLIER), spec())).toBe(false);
  });
});
