// ServiceWriter.matches(): the reconciler's "already programmed as planned?" check, without
// building objects. It must agree with get() + sameService() on every kind of difference.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sameService, type ServiceSpec } from '../../pkg/datapath/index.js';
import { be, kernelNode, svc, type KernelNode } from './datapath-fixture.js';
import { ifSetUp } from '../fixtures/if-set-up.js';

let kn: KernelNode;
beforeAll(async () => {
  kn = await kernelNode('matches');
});
afterAll(async () => {
  await ifSetUp(kn)?.destroy();
});

const base = (): ServiceSpec => svc('10.96.7.1', 80, 'FAILOVER', [[be('10.244.1.1'), be('10.244.1.2')], [be('10.244.2.1')], []]);

function agrees(spec: ServiceSpec): boolean {
  const viaGet = kn.dp.writer.get(spec.key);
  const reference = viaGet !== undefined && sameService(spec, viaGet);
  expect(kn.dp.writer.matches(spec)).toBe(reference);
  return reference;
}

describe('ServiceWriter.matches', () => {
  it('is true for what was applied, in any slot order, and for another spelling of the VIP', () => {
    kn.dp.writer.apply(base());
    expect(agrees(base())).toBe(true);
    const reordered = base();
    expect(agrees({ ...reordered, tiers: [[reordered.tiers[0]![1]!, reordered.tiers[0]![0]!], ...reordered.tiers.slice(1)] })).toBe(true);
    expect(kn.dp.writer.matches({ ...base(), tiers: [...base().tiers, [], [], [], []] })).toBe(true);
    kn.dp.writer.apply(svc('fd00:10:96::7', 80, 'RANDOM', [[be('fd00:10:244::1')]]));
    expect(agrees(svc('fd00:10:96:0:0::7', 80, 'RANDOM', [[be('fd00:10:244:0::1')]]))).toBe(true);
  });

  it('is false for every kind of difference', () => {
    kn.dp.writer.apply(base());
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
    for (const spec of cases) expect(agrees(spec), JSON.stringify(spec)).toBe(false);
  });
});
