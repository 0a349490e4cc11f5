// nearbyctl explain for a SPILLOVER Service: each tier's n and h, the endpoints the node's kernel
// ejected now taken off h, and the shares priority load gives (pkg/contract's rule).
import { describe, expect, it } from 'vitest';
import { explainService } from '../../../cmd/ctl/explain.js';
import { ep, seedNodes, service, slice, snapshotOf } from '../planner/fixtures.js';

const snapshot = snapshotOf([
  ...seedNodes(),
  service('helloworld', { annotations: { 'nearby.io/spillover': 'true' }, trafficDistribution: 'PreferClose' }),
  slice('hw', {
    service: 'helloworld',
    endpoints: [
      ep('10.244.1.1', 'w1'),
      ep('10.244.1.2', 'w1'),
      ep('10.244.1.3', 'w1'),
      ep('10.244.1.4', 'w1', { ready: false }),
      ep('10.244.2.1', 'w2'),
    ],
  }),
]);

describe('explain with spillover', () => {
  it('shows n, h and the loads from the plan alone', () => {
    const { text } = explainService(snapshot, 'w1', 'sample/helloworld', {});
    expect(text).toContain('SPILLOVER (priority load, overprovisioning factor 1.4): connects split by tier health');
    expect(text).toContain('tier 0: n=4 h=3, health 100%, load 100%');
    expect(text).toContain('tier 1: n=1 h=1, health 100%, load 0%');
  });

  it('takes the endpoints ejected now off h', () => {
    const ejected = new Map([
      ['10.244.1.1:5000', 30_000],
      ['10.244.1.2:5000', 30_000],
    ]);
    const { text } = explainService(snapshot, 'w1', 'sample/helloworld', {}, ejected);
    expect(text).toContain('tier 0: n=4 h=1 (2 ejected now), health 35%, load 35%');
    expect(text).toContain('tier 1: n=1 h=1, health 100%, load 65%');
  });

  it('an annotated Service spills even under --spillover off; an all-or-nothing one shows no spillover', () => {
    const { text } = explainService(snapshot, 'w1', 'sample/helloworld', { spillover: 'off' });
    expect(text).toContain('SPILLOVER');
    const plain = snapshotOf([
      ...seedNodes(),
      service('helloworld', { trafficDistribution: 'PreferClose' }),
      slice('hw', { service: 'helloworld', endpoints: [ep('10.244.1.1', 'w1')] }),
    ]);
    expect(explainService(plain, 'w1', 'sample/helloworld', {}).text).not.toContain('SPILLOVER');
  });
});
