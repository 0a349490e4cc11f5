/**
 * The public conformance cases of SEMANTICS.md, at the planner level. The datapath suite runs
 * the same cases through the kernel; here the claim is the exact tiers the kernel is given.
 * PreferClose over [network, region, zone, subzone] has 8 tiers; see PlannedEntry.
 */
import { describe, expect, it } from 'vitest';
import {
  ep,
  entryOf,
  namespace,
  node,
  planFor,
  plannedService,
  POD,
  POD6,
  SEED_VIP6,
  seedEndpoints,
  seedNodes,
  service,
  slice,
  tierAddresses,
  tiers,
} from './fixtures.js';

const preferClose = service('helloworld', { trafficDistribution: 'PreferClose' });

describe('SEMANTICS.md public conformance cases', () => {
  it('case 1: seed 000, PreferClose, client on w1: every connect goes to w1 pod', () => {
    const result = planFor([...seedNodes(), preferClose, slice('hw-1', { service: 'helloworld', endpoints: seedEndpoints() })], 'w1');
    const planned = plannedService(result);
    expect(planned.mode).toBe('FAILOVER');
    expect(planned.scopes).toEqual(['network', 'region', 'zone', 'subzone']);
    expect(tierAddresses(result)).toEqual(tiers(8, { 0: [POD.w1], 1: [POD.w2], 2: [POD.w3] }));
    expect(result.warnings).toEqual([]);
  });

  it('case 2: after the w1 deployment is deleted, every connect goes to w2 (same zone beats other zone)', () => {
    const endpoints = [ep(POD.w2, 'w2'), ep(POD.w3, 'w3')];
    const result = planFor([...seedNodes(), preferClose, slice('hw-1', { service: 'helloworld', endpoints })], 'w1');
    expect(tierAddresses(result)).toEqual(tiers(8, { 1: [POD.w2], 2: [POD.w3] }));
  });

  it('case 3: after w3 is relabelled r/z1/s2 and its pod redeployed, w2 and w3 share the first tier', () => {
    const redeployed = '10.244.3.11';
    const nodes = [
      node('w1', { region: 'r', zone: 'z1', subzone: 's1' }),
      node('w2', { region: 'r', zone: 'z1', subzone: 's2' }),
      node('w3', { region: 'r', zone: 'z1', subzone: 's2' }),
    ];
    const endpoints = [ep(POD.w2, 'w2'), ep(redeployed, 'w3', { pod: 'helloworld-w3-new' })];
    const result = planFor([...nodes, preferClose, slice('hw-1', { service: 'helloworld', endpoints })], 'w1');
    // Both in one tier: the kernel spreads connects evenly inside a tier, which is what gives
    // each pod its share (>= 30% of 200 in the datapath run of this case).
    expect(tierAddresses(result)).toEqual(tiers(8, { 1: [POD.w2, redeployed] }));
    const firstNonEmpty = entryOf(result).tiers.find((t) => t.endpoints.length > 0);
    expect(firstNonEmpty?.endpoints.map((e) => e.pod)).toEqual(['sample/helloworld-w2', 'sample/helloworld-w3-new']);
  });

  describe('case 4: internalTrafficPolicy Local, client on w1', () => {
    const local = service('helloworld', { internalTrafficPolicy: 'Local' });

    it('uses only w1 pod', () => {
      const result = planFor([...seedNodes(), local, slice('hw-1', { service: 'helloworld', endpoints: seedEndpoints() })], 'w1');
      expect(plannedService(result).mode).toBe('STRICT');
      expect(tierAddresses(result)).toEqual([[POD.w1]]);
    });

    it('after deleting it, tier 0 is empty so the connect fails at once', () => {
      const endpoints = [ep(POD.w2, 'w2'), ep(POD.w3, 'w3')];
      const result = planFor([...seedNodes(), local, slice('hw-1', { service: 'helloworld', endpoints })], 'w1');
      expect(plannedService(result).mode).toBe('STRICT');
      expect(tierAddresses(result)).toEqual([[]]);
    });
  });

  it('case 5: the annotation instead of the spec field gives the same plan as case 1', () => {
    const slices = slice('hw-1', { service: 'helloworld', endpoints: seedEndpoints() });
    const bySpec = planFor([...seedNodes(), preferClose, slices], 'w1');
    const annotated = service('helloworld', { annotations: { 'networking.istio.io/traffic-distribution': 'PreferClose' } });
    const byAnnotation = planFor([...seedNodes(), annotated, slices], 'w1');
    expect(tierAddresses(byAnnotation)).toEqual(tiers(8, { 0: [POD.w1], 1: [POD.w2], 2: [POD.w3] }));
    expect(entryOf(byAnnotation)).toEqual(entryOf(bySpec));
    expect(plannedService(byAnnotation).mode).toBe('FAILOVER');
    expect(plannedService(byAnnotation).scopes).toEqual(plannedService(bySpec).scopes);
  });

  it('case 6: no policy: every pod receives traffic', () => {
    const result = planFor(
      [...seedNodes(), namespace('sample'), service('helloworld'), slice('hw-1', { service: 'helloworld', endpoints: seedEndpoints() })],
      'w1',
    );
    expect(plannedService(result).mode).toBe('RANDOM');
    expect(tierAddresses(result)).toEqual([[POD.w1, POD.w2, POD.w3]]);
  });

  it('case 7: a local serving+terminating endpoint is not used while other endpoints are ready', () => {
    const endpoints = [
      ep(POD.w1, 'w1', { ready: false, serving: true, terminating: true }),
      ep(POD.w2, 'w2', { ready: true }),
      ep(POD.w3, 'w3', { ready: true }),
    ];
    const result = planFor([...seedNodes(), preferClose, slice('hw-1', { service: 'helloworld', endpoints })], 'w1');
    expect(tierAddresses(result)).toEqual(tiers(8, { 1: [POD.w2], 2: [POD.w3] }));
  });

  it('case 8: every endpoint terminating and serving: those are used, closest first', () => {
    const terminating = { ready: false, serving: true, terminating: true };
    const endpoints = [ep(POD.w1, 'w1', terminating), ep(POD.w2, 'w2', terminating), ep(POD.w3, 'w3', terminating)];
    const result = planFor([...seedNodes(), preferClose, slice('hw-1', { service: 'helloworld', endpoints })], 'w1');
    expect(tierAddresses(result)).toEqual(tiers(8, { 0: [POD.w1], 1: [POD.w2], 2: [POD.w3] }));
    const planned = entryOf(result).tiers.flatMap((t) => t.endpoints);
    expect(planned.every((e) => e.terminating)).toBe(true);
  });

  it('case 9: a client node without locality labels puts every endpoint in one tier', () => {
    const result = planFor(
      [...seedNodes(), node('cp'), preferClose, slice('hw-1', { service: 'helloworld', endpoints: seedEndpoints() })],
      'cp',
    );
    // Networks are unset on both sides, so they match; regions differ ("" vs "r"), so all rank 1.
    expect(tierAddresses(result)).toEqual(tiers(8, { 3: [POD.w1, POD.w2, POD.w3] }));
  });

  it('case 10: an IPv6 Service with the case 1 topology gives the case 1 plan', () => {
    const v6 = service('helloworld', { trafficDistribution: 'PreferClose', clusterIPs: [SEED_VIP6] });
    const endpoints = [ep(POD6.w1, 'w1'), ep(POD6.w2, 'w2'), ep(POD6.w3, 'w3')];
    const result = planFor([...seedNodes(), v6, slice('hw-1', { service: 'helloworld', addressType: 'IPv6', endpoints })], 'w1');
    const entry = entryOf(result);
    expect(entry).toMatchObject({ vip: SEED_VIP6, family: 6, port: 5000, protocol: 'TCP', portName: 'http' });
    expect(tierAddresses(result)).toEqual(tiers(8, { 0: [POD6.w1], 1: [POD6.w2], 2: [POD6.w3] }));
    expect(plannedService(result).entries).toHaveLength(1);
  });
});
