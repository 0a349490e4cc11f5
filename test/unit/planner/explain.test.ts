/** explainEndpoint: why an endpoint sits in its tier, for `nearbyctl explain`. */
import { describe, expect, it } from 'vitest';
import { explainEndpoint } from '../../../pkg/planner/index.js';
import { ep, POD, seedEndpoints, seedNodes, service, slice, snapshotOf } from './fixtures.js';

describe('explainEndpoint', () => {
  const preferClose = service('helloworld', { trafficDistribution: 'PreferClose' });

  it('shows the scope walk that put the w2 pod in tier 1', () => {
    const snapshot = snapshotOf([...seedNodes(), preferClose, slice('hw-1', { service: 'helloworld', endpoints: seedEndpoints() })]);
    const explanation = explainEndpoint(snapshot, 'w1', 'sample/helloworld', POD.w2);
    expect(explanation.placements).toEqual([{ vip: '10.96.0.100', port: 5000, protocol: 'TCP', tier: 1 }]);
    expect(explanation.lines).toEqual([
      'Service sample/helloworld: spec.trafficDistribution=PreferClose: FAILOVER over network, region, zone, subzone',
      'this node w1: network="" region="r" zone="z1" subzone="s1" node="w1" (from its node labels)',
      'endpoint 10.244.2.10 on node w2: network="" region="r" zone="z1" subzone="s2" node="w2" (from its node labels)',
      'conditions: ready=unset (so true) serving=unset (so true) terminating=unset (so false)',
      'network "" vs "": match',
      'region "r" vs "r": match',
      'zone "z1" vs "z1": match',
      'subzone "s1" vs "s2": differ',
      'rank 3 of 4 → tier 1',
      'planned in tier 1 of 10.96.0.100 port 5000/TCP',
    ]);
  });

  it('says when an endpoint is not planned', () => {
    const endpoints = [ep(POD.w1, 'w1', { ready: false, serving: true, terminating: true }), ep(POD.w2, 'w2')];
    const snapshot = snapshotOf([...seedNodes(), preferClose, slice('hw-1', { service: 'helloworld', endpoints })]);
    const explanation = explainEndpoint(snapshot, 'w1', 'sample/helloworld', POD.w1);
    expect(explanation.placements).toEqual([]);
    expect(explanation.lines).toContain('conditions: ready=false serving=true terminating=true');
    expect(explanation.lines.at(-1)).toMatch(/^not planned: /);
  });

  it('explains STRICT against another node', () => {
    const snapshot = snapshotOf([
      ...seedNodes(),
      service('helloworld', { internalTrafficPolicy: 'Local' }),
      slice('hw-1', { service: 'helloworld', endpoints: seedEndpoints() }),
    ]);
    const explanation = explainEndpoint(snapshot, 'w1', 'sample/helloworld', POD.w3);
    expect(explanation.lines).toContain('STRICT: it runs on w3, not on w1, so it is never used here');
    expect(explanation.placements).toEqual([]);
  });

  it('says a headless Service is not intercepted', () => {
    const snapshot = snapshotOf([...seedNodes(), service('helloworld', { clusterIP: 'None' })]);
    expect(explainEndpoint(snapshot, 'w1', 'sample/helloworld', POD.w1).lines).toEqual([
      'Service sample/helloworld is not intercepted: headless (clusterIP None): there is no VIP to intercept; clients reach the endpoints directly through DNS',
    ]);
  });

  it('says when the Service or endpoint is unknown', () => {
    const snapshot = snapshotOf([...seedNodes(), service('helloworld')]);
    expect(explainEndpoint(snapshot, 'w1', 'sample/nope', POD.w1).lines).toEqual(['Service sample/nope is not in the snapshot']);
    expect(explainEndpoint(snapshot, 'w1', 'sample/helloworld', POD.w1).lines.at(-1)).toBe(
      '10.244.1.10 is not an endpoint of sample/helloworld',
    );
  });
});
