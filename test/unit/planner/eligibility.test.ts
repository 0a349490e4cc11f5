/** Which endpoints are eligible: ready first, serving+terminating as the fallback (KEP-1669). */
import { describe, expect, it } from 'vitest';
import type { EndpointConditions } from '../../../pkg/model/index.js';
import { isReady, isServing, isServingTerminating, isTerminating } from '../../../pkg/planner/index.js';
import { ep, entryOf, planFor, POD, POD6, SEED_VIP, SEED_VIP6, seedNodes, service, slice, tierAddresses, tiers } from './fixtures.js';

describe('endpoint conditions', () => {
  it.each<{ conditions: EndpointConditions; ready: boolean; serving: boolean; terminating: boolean; fallback: boolean }>([
    { conditions: {}, ready: true, serving: true, terminating: false, fallback: false },
    { conditions: { ready: true }, ready: true, serving: true, terminating: false, fallback: false },
    { conditions: { ready: false }, ready: false, serving: false, terminating: false, fallback: false },
    { conditions: { ready: false, serving: true, terminating: true }, ready: false, serving: true, terminating: true, fallback: true },
    { conditions: { ready: false, terminating: true }, ready: false, serving: false, terminating: true, fallback: false },
    { conditions: { terminating: true }, ready: true, serving: true, terminating: true, fallback: true },
    { conditions: { ready: false, serving: true, terminating: false }, ready: false, serving: true, terminating: false, fallback: false },
    { conditions: { ready: false, serving: false, terminating: true }, ready: false, serving: false, terminating: true, fallback: false },
  ])('$conditions', ({ conditions, ready, serving, terminating, fallback }) => {
    expect({
      ready: isReady(conditions),
      serving: isServing(conditions),
      terminating: isTerminating(conditions),
      fallback: isServingTerminating(conditions),
    }).toEqual({ ready, serving, terminating, fallback });
  });
});

const TERMINATING = { ready: false, serving: true, terminating: true } as const;
const NOT_READY = { ready: false, serving: false } as const;

describe('eligibility in a plan', () => {
  const random = service('helloworld');
  const local = service('helloworld', { internalTrafficPolicy: 'Local' });
  const preferClose = service('helloworld', { trafficDistribution: 'PreferClose' });

  it.each([
    {
      name: 'RANDOM: ready endpoints only, while any is ready',
      svc: random,
      endpoints: [ep(POD.w1, 'w1', TERMINATING), ep(POD.w2, 'w2'), ep(POD.w3, 'w3', NOT_READY)],
      expected: [[POD.w2]],
    },
    {
      name: 'RANDOM: serving+terminating ones when none is ready',
      svc: random,
      endpoints: [ep(POD.w1, 'w1', TERMINATING), ep(POD.w2, 'w2', NOT_READY), ep(POD.w3, 'w3', TERMINATING)],
      expected: [[POD.w1, POD.w3]],
    },
    {
      name: 'RANDOM: nothing when nothing is ready or serving',
      svc: random,
      endpoints: [ep(POD.w1, 'w1', NOT_READY), ep(POD.w2, 'w2', { ready: false, terminating: true })],
      expected: [[]],
    },
    {
      name: 'STRICT: the ready local endpoint beats a terminating local one',
      svc: local,
      endpoints: [ep(POD.w1, 'w1', TERMINATING), ep('10.244.1.11', 'w1'), ep(POD.w2, 'w2')],
      expected: [['10.244.1.11']],
    },
    {
      name: "STRICT: this node's serving+terminating endpoint is used even while other nodes have ready ones",
      svc: local,
      endpoints: [ep(POD.w1, 'w1', TERMINATING), ep(POD.w2, 'w2'), ep(POD.w3, 'w3')],
      expected: [[POD.w1]],
    },
    {
      name: 'STRICT: a local endpoint neither ready nor serving leaves tier 0 empty',
      svc: local,
      endpoints: [ep(POD.w1, 'w1', NOT_READY), ep(POD.w2, 'w2')],
      expected: [[]],
    },
    {
      name: 'STRICT: an endpoint without a node is never local',
      svc: local,
      endpoints: [ep(POD.w1), ep(POD.w2, 'w2')],
      expected: [[]],
    },
    {
      name: 'FAILOVER: a not-ready close endpoint does not hold tier 0',
      svc: preferClose,
      endpoints: [ep(POD.w1, 'w1', NOT_READY), ep(POD.w3, 'w3')],
      expected: tiers(8, { 2: [POD.w3] }),
    },
    {
      name: 'endpoints without addresses are skipped',
      svc: random,
      endpoints: [ep(null, 'w1'), ep(POD.w2, 'w2')],
      expected: [[POD.w2]],
    },
    {
      name: 'an endpoint without addresses does not count as ready, so the fallback still applies',
      svc: random,
      endpoints: [ep(null, 'w1'), ep(POD.w2, 'w2', TERMINATING)],
      expected: [[POD.w2]],
    },
  ])('$name', ({ svc, endpoints, expected }) => {
    const result = planFor([...seedNodes(), svc, slice('hw-1', { service: 'helloworld', endpoints })], 'w1');
    expect(tierAddresses(result)).toEqual(expected);
  });

  it('marks the serving+terminating endpoints it uses', () => {
    const endpoints = [ep(POD.w1, 'w1', TERMINATING)];
    const result = planFor([...seedNodes(), random, slice('hw-1', { service: 'helloworld', endpoints })], 'w1');
    expect(entryOf(result).tiers).toEqual([
      { endpoints: [{ address: POD.w1, port: 5000, node: 'w1', pod: 'sample/helloworld-w1', terminating: true }] },
    ]);
  });

  it('an endpoint listed by two slices appears once, keeping the usable copy', () => {
    const objects = [
      ...seedNodes(),
      random,
      slice('hw-a', { service: 'helloworld', endpoints: [ep(POD.w1, 'w1', NOT_READY), ep(POD.w2, 'w2')] }),
      slice('hw-b', { service: 'helloworld', endpoints: [ep(POD.w1, 'w1'), ep(POD.w2, 'w2')] }),
    ];
    expect(tierAddresses(planFor(objects, 'w1'))).toEqual([[POD.w1, POD.w2]]);
  });

  it('the fallback is decided per address family', () => {
    const dual = service('helloworld', { clusterIPs: [SEED_VIP, SEED_VIP6] });
    const objects = [
      ...seedNodes(),
      dual,
      slice('hw-v4', { service: 'helloworld', endpoints: [ep(POD.w1, 'w1', TERMINATING), ep(POD.w2, 'w2')] }),
      slice('hw-v6', {
        service: 'helloworld',
        addressType: 'IPv6',
        endpoints: [ep(POD6.w1, 'w1', TERMINATING), ep(POD6.w2, 'w2', NOT_READY)],
      }),
    ];
    const result = planFor(objects, 'w1');
    expect(tierAddresses(result, 'sample/helloworld', 0)).toEqual([[POD.w2]]);
    expect(tierAddresses(result, 'sample/helloworld', 1)).toEqual([[POD6.w1]]);
  });

  it('the fallback is decided per Service port', () => {
    const twoPorts = service('helloworld', {
      ports: [
        { name: 'http', port: 80 },
        { name: 'grpc', port: 90 },
      ],
    });
    const objects = [
      ...seedNodes(),
      twoPorts,
      slice('hw-http', { service: 'helloworld', ports: [{ name: 'http', port: 8080 }], endpoints: [ep(POD.w1, 'w1')] }),
      slice('hw-grpc', { service: 'helloworld', ports: [{ name: 'grpc', port: 9090 }], endpoints: [ep(POD.w2, 'w2', TERMINATING)] }),
    ];
    const result = planFor(objects, 'w1');
    expect(tierAddresses(result, 'sample/helloworld', 0)).toEqual([[POD.w1]]);
    expect(tierAddresses(result, 'sample/helloworld', 1)).toEqual([[POD.w2]]);
  });
});
