// One module names services and backends and says when a service is programmed as planned: the
// writer's own check over its record must agree with the same rule over what get() returns.
import { describe, expect, it } from 'vitest';
import {
  type BackendSpec,
  backendKeyOf,
  memoryMaps,
  sameService,
  serviceKeyText,
  type ServiceSpec,
  ServiceWriter,
} from '../../../pkg/datapath/index.js';

const be = (address: string, port = 8080, terminating = false): BackendSpec => ({ address, port, nodeId: 0, terminating });
const svc = (address: string, mode: ServiceSpec['mode'], tiers: BackendSpec[][], weights?: number[]): ServiceSpec => ({
  key: { address, port: 80, protocol: 'TCP' },
  label: 'test/svc',
  mode,
  tiers,
  ...(weights ? { weights } : {}),
});

describe('key text', () => {
  it('is one text for every spelling of an address', () => {
    expect(serviceKeyText({ address: 'fd00::0:1', port: 80, protocol: 'UDP' })).toBe('[fd00::1]:80/UDP');
    expect(serviceKeyText({ address: '10.96.0.1', port: 443, protocol: 'TCP' })).toBe('10.96.0.1:443/TCP');
    expect(backendKeyOf('FD00:0:0::A', 8080)).toBe(backendKeyOf('fd00::a', 8080));
    expect(backendKeyOf('10.244.0.1', 8080)).not.toBe(backendKeyOf('10.244.0.1', 8081));
    expect(backendKeyOf('not-an-ip', 1)).toBeUndefined();
  });
});

describe('programmed as planned', () => {
  const writer = ServiceWriter.open(memoryMaps({ services: 16, backends: 32, slots: 64, revNat: 16, counters: 64 }));
  const base = (): ServiceSpec => svc('10.96.7.1', 'FAILOVER', [[be('10.244.1.1'), be('10.244.1.2')], [be('10.244.2.1')], []]);
  const agrees = (spec: ServiceSpec): boolean => {
    const programmed = writer.get(spec.key);
    const reference = programmed !== undefined && sameService(spec, programmed);
    expect(writer.matches(spec), JSON.stringify(spec)).toBe(reference);
    return reference;
  };

  it('holds for what was applied, in any slot order and any spelling of the VIP', () => {
    writer.apply(base());
    expect(agrees(base())).toBe(true);
    const b = base();
    expect(agrees({ ...b, tiers: [[b.tiers[0]![1]!, b.tiers[0]![0]!], ...b.tiers.slice(1)] })).toBe(true);
    expect(agrees({ ...b, tiers: [...b.tiers, [], [], [], []] })).toBe(true);
    writer.apply(svc('fd00:10:96::7', 'RANDOM', [[be('fd00:10:244::1')]]));
    expect(agrees(svc('fd00:10:96:0:0::7', 'RANDOM', [[be('fd00:10:244:0::1')]]))).toBe(true);
  });

  it('fails for every kind of difference', () => {
    writer.apply(base());
    const b = base();
    const cases: ServiceSpec[] = [
      { ...b, mode: 'RANDOM' },
      { ...b, mode: 'WEIGHTED', weights: [1, 1] },
      { ...b, tiers: [b.tiers[1]!, b.tiers[0]!] },
      { ...b, tiers: [[...b.tiers[0]!, be('10.244.1.3')], ...b.tiers.slice(1)] },
      { ...b, tiers: [[b.tiers[0]![0]!], ...b.tiers.slice(1)] },
      { ...b, tiers: [[be('10.244.1.1', 9090), b.tiers[0]![1]!], ...b.tiers.slice(1)] },
      { ...b, tiers: [[{ ...b.tiers[0]![0]!, nodeId: 7 }, b.tiers[0]![1]!], ...b.tiers.slice(1)] },
      { ...b, tiers: [[be('10.244.1.1', 8080, true), b.tiers[0]![1]!], ...b.tiers.slice(1)] },
      { ...b, key: { ...b.key, port: 81 } },
      { ...b, key: { ...b.key, protocol: 'UDP' } },
    ];
    for (const spec of cases) expect(agrees(spec)).toBe(false);
  });

  it('can leave node ids out, for a reader that does not know the agent numbering', () => {
    writer.apply(base());
    const b = base();
    const renumbered = { ...b, tiers: b.tiers.map((tier) => tier.map((x) => ({ ...x, nodeId: 9 }))) };
    expect(sameService(renumbered, writer.get(b.key)!)).toBe(false);
    expect(sameService(renumbered, writer.get(b.key)!, { ignoreNodeIds: true })).toBe(true);
  });
});
