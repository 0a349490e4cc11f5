// Session affinity as the writer programs it: the timeout in the service value, read back after
// a restart, and a change of timeout alone is a change the writer makes.
import { describe, expect, it } from 'vitest';
import { memoryMaps, type ServiceSpec, ServiceWriter, svcKey } from '../../../pkg/datapath/index.js';
import { svcValue } from '../../../pkg/datapath/codecs.js';
import { sameService } from '../../../pkg/datapath/identity.js';
import { SIZES } from './writer-fixture.js';

const spec = (affinitySeconds?: number): ServiceSpec => ({
  key: { address: '10.96.0.1', port: 80, protocol: 'TCP' },
  label: 'test/sticky',
  mode: 'FAILOVER',
  tiers: [[{ address: '10.244.0.1', port: 8080, nodeId: 1, terminating: false }]],
  ...(affinitySeconds !== undefined ? { affinitySeconds } : {}),
});

describe('session affinity in the service value', () => {
  it('writes the timeout, reads it back after a restart, and rewrites the entry when only it changes', () => {
    const maps = memoryMaps(SIZES);
    const writer = ServiceWriter.open(maps);
    const entry = (): number => svcValue.decode(maps.services.lookup(svcKey.encode(spec().key))!).affinitySeconds;

    writer.apply(spec(10_800));
    expect(entry()).toBe(10_800);
    expect(sameService(spec(10_800), writer.get(spec().key)!)).toBe(true);
    expect(sameService(spec(), writer.get(spec().key)!)).toBe(false);

    const restarted = ServiceWriter.open(maps);
    expect(restarted.get(spec().key)?.affinitySeconds).toBe(10_800);
    restarted.apply(spec(60));
    expect(entry()).toBe(60);
    restarted.apply(spec());
    expect(entry()).toBe(0);
    expect(restarted.get(spec().key)).not.toHaveProperty('affinitySeconds');
  });

  it('keeps SPILLOVER counts and the timeout side by side in one entry', () => {
    const maps = memoryMaps(SIZES);
    const writer = ServiceWriter.open(maps);
    const spillover = { overprovisionPercent: 140, endpoints: [3, 2], ready: [2, 2] };
    const both: ServiceSpec = { ...spec(300), mode: 'SPILLOVER', spillover };

    writer.apply(both);
    const value = svcValue.decode(maps.services.lookup(svcKey.encode(both.key))!);
    expect(value.affinitySeconds).toBe(300);
    expect(value.spillover).toEqual({ overprovisionPercent: 140, endpoints: [3, 2, 0, 0, 0, 0, 0, 0], ready: [2, 2, 0, 0, 0, 0, 0, 0] });
    expect(sameService(both, ServiceWriter.open(maps).get(both.key)!)).toBe(true);
    expect(sameService({ ...both, affinitySeconds: 301 }, writer.get(both.key)!)).toBe(false);
  });

  it('refuses a timeout the value cannot hold', () => {
    const writer = ServiceWriter.open(memoryMaps(SIZES));
    expect(() => writer.apply(spec(1.5))).toThrow(/affinity timeout/);
    expect(() => writer.apply(spec(-1))).toThrow(/affinity timeout/);
  });
});
