// Fail-open's rule (the kernel's failing_open, mirrored by failsOpen), the heartbeat the agent
// renews, and the claims the writer keeps beside the services it programs.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ClaimingWriter,
  controlCodec,
  failOpenStatus,
  failsOpen,
  Heartbeat,
  heartbeatIntervalMs,
  LAYOUT_VERSION,
  memoryMaps,
  MemoryBpfMap,
  readControl,
  type ServiceSpec,
  ServiceWriter,
  svcKey,
} from '../../../pkg/datapath/index.js';
import { SIZES, be } from './writer-fixture.js';

const HEADER = readFileSync(join(import.meta.dirname, '../../../bpf/nearby.h'), 'utf8');
const S = 1_000_000_000n;
const spec = (address: string, exclusive: boolean): ServiceSpec => ({
  key: { address, port: 80, protocol: 'TCP' },
  label: `test/${address}`,
  mode: 'RANDOM',
  tiers: [[be(1)]],
  ...(exclusive ? { exclusive: true as const } : {}),
});

describe('failsOpen', () => {
  const bound = { heartbeatNs: 100n * S, failOpenNs: 10n * S, layout: LAYOUT_VERSION };

  it('never fails open when the bound is 0 (the default), however old the heartbeat', () => {
    expect(failsOpen({ ...bound, failOpenNs: 0n }, 10_000n * S, false)).toBe(false);
  });

  it('keeps rewriting up to the bound and fails open past it', () => {
    expect(failsOpen(bound, 105n * S, false)).toBe(false);
    expect(failsOpen(bound, 110n * S, false)).toBe(false);
    expect(failsOpen(bound, 110n * S + 1n, false)).toBe(true);
  });

  it('never fails open for a service nearby claims exclusively', () => {
    expect(failsOpen(bound, 1_000n * S, true)).toBe(false);
  });

  it('reads a heartbeat ahead of the clock as fresh, not as one 2^64 ns old', () => {
    expect(failsOpen(bound, 99n * S, false)).toBe(false);
  });
});

describe('failOpenStatus', () => {
  const row = { heartbeatNs: 100n * S, failOpenNs: 3n * S, layout: LAYOUT_VERSION };

  it('gives the bound, the heartbeat age and the kernel decision for a service nearby does not claim', () => {
    expect(failOpenStatus(row, 101n * S + 500_000_000n)).toEqual({ afterMs: 3000, heartbeatAgeMs: 1500, inEffect: false });
    expect(failOpenStatus(row, 103n * S)).toMatchObject({ heartbeatAgeMs: 3000, inEffect: false });
    expect(failOpenStatus(row, 103n * S + 1_000_000n)).toEqual({ afterMs: 3000, heartbeatAgeMs: 3001, inEffect: true });
  });

  it('says off with bound 0 however old the heartbeat, and reads a heartbeat ahead of the clock as 0 s old', () => {
    expect(failOpenStatus({ ...row, failOpenNs: 0n }, 10_000n * S)).toMatchObject({ afterMs: 0, inEffect: false });
    expect(failOpenStatus(row, 99n * S)).toEqual({ afterMs: 3000, heartbeatAgeMs: 0, inEffect: false });
  });

  it('has no heartbeat age for a row no agent wrote yet', () => {
    expect(failOpenStatus({ heartbeatNs: 0n, failOpenNs: 0n, layout: 0 }, 5n * S)).toEqual({
      afterMs: 0,
      heartbeatAgeMs: undefined,
      inEffect: false,
    });
  });
});

describe('Heartbeat', () => {
  it('writes its clock, the bound in ns and the layout version into the one control row', () => {
    const map = new MemoryBpfMap('control', 4, controlCodec.size, 1);
    let now = 5n * S;
    const heartbeat = new Heartbeat(map, 1500, () => now);
    heartbeat.beat();
    expect(readControl(map)).toEqual({ heartbeatNs: 5n * S, failOpenNs: 1_500_000_000n, layout: LAYOUT_VERSION });
    now = 6n * S;
    heartbeat.beat();
    expect(readControl(map)?.heartbeatNs).toBe(6n * S);
  });

  it('turns fail-open off in the kernel when started without a bound', () => {
    const map = new MemoryBpfMap('control', 4, controlCodec.size, 1);
    map.update(Buffer.alloc(4), controlCodec.encode({ heartbeatNs: 1n, failOpenNs: S, layout: LAYOUT_VERSION }));
    const heartbeat = new Heartbeat(map, 0, () => 7n * S);
    heartbeat.start();
    heartbeat.stop();
    expect(readControl(map)).toMatchObject({ failOpenNs: 0n, heartbeatNs: 7n * S });
  });

  it('renews several times within the bound, and at least once a second', () => {
    expect(heartbeatIntervalMs(1000)).toBe(250);
    expect(heartbeatIntervalMs(60_000)).toBe(1000);
    expect(heartbeatIntervalMs(500) * 2).toBeLessThan(500);
  });

  it('has the layout version of bpf/nearby.h', () => {
    expect(HEADER).toContain(`#define NEARBY_LAYOUT_VERSION ${LAYOUT_VERSION}\n`);
  });
});

describe('ClaimingWriter', () => {
  it('claims an exclusive service before its entry exists and releases it with the entry', () => {
    const maps = memoryMaps(SIZES);
    const writer = new ClaimingWriter(ServiceWriter.open(maps), maps.claims);
    const claimed = (address: string): boolean => maps.claims.lookup(svcKey.encode({ address, port: 80, protocol: 'TCP' })) !== undefined;
    writer.applyMany([spec('10.96.0.1', true), spec('10.96.0.2', false)]);
    expect([claimed('10.96.0.1'), claimed('10.96.0.2')]).toEqual([true, false]);
    expect(maps.services.lookup(svcKey.encode(spec('10.96.0.1', true).key))).toBeDefined();

    // The label goes: the claim goes, and the spec no longer matches until rewritten.
    expect(writer.matches(spec('10.96.0.1', false))).toBe(false);
    writer.apply(spec('10.96.0.1', false));
    expect(claimed('10.96.0.1')).toBe(false);
    expect(writer.matches(spec('10.96.0.1', false))).toBe(true);

    writer.apply(spec('10.96.0.2', true));
    expect(claimed('10.96.0.2')).toBe(true);
    writer.remove(spec('10.96.0.2', true).key);
    expect(claimed('10.96.0.2')).toBe(false);
    expect(maps.claims.dump().count).toBe(0);
  });

  it('reads the claims a previous agent left, so a restart rewrites nothing for them', () => {
    const maps = memoryMaps(SIZES);
    const first = new ClaimingWriter(ServiceWriter.open(maps), maps.claims);
    first.apply(spec('10.96.0.3', true));
    const second = new ClaimingWriter(ServiceWriter.open(maps), maps.claims);
    expect(second.isClaimed(spec('10.96.0.3', true).key)).toBe(true);
    expect(second.matches(spec('10.96.0.3', true))).toBe(true);
  });
});
