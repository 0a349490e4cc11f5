/** Services with nothing to intercept are skipped, with the reason kept for `nearbyctl explain`. */
import { describe, expect, it } from 'vitest';
import { ep, planFor, POD, seedNodes, service, slice } from './fixtures.js';

describe('skipped Services', () => {
  it.each([
    {
      name: 'headless (clusterIP None)',
      svc: service('helloworld', { clusterIP: 'None', trafficDistribution: 'PreferClose' }),
      reason: 'headless (clusterIP None): there is no VIP to intercept; clients reach the endpoints directly through DNS',
    },
    {
      name: 'headless written as clusterIPs [None]',
      svc: service('helloworld', { clusterIPs: ['None'] }),
      reason: 'headless (clusterIP None): there is no VIP to intercept; clients reach the endpoints directly through DNS',
    },
    {
      name: 'ExternalName',
      svc: service('helloworld', { type: 'ExternalName', clusterIP: '' }),
      reason: 'type ExternalName: a DNS alias with no VIP to intercept',
    },
    {
      name: 'no clusterIP allocated yet',
      svc: service('helloworld', { clusterIP: '' }),
      reason: 'no clusterIP allocated yet: there is no VIP to intercept',
    },
    {
      name: 'no ports',
      svc: service('helloworld', { ports: [] }),
      reason: 'no ports: there is nothing to intercept',
    },
    {
      name: 'only SCTP ports',
      svc: service('helloworld', { ports: [{ name: 'sig', port: 3868, protocol: 'SCTP' }] }),
      reason: 'only SCTP ports, which nearby does not intercept',
    },
  ])('$name', ({ svc, reason }) => {
    const result = planFor([...seedNodes(), svc, slice('hw-1', { service: 'helloworld', endpoints: [ep(POD.w1, 'w1')] })], 'w1');
    expect(result.services).toEqual([]);
    expect(result.skipped).toEqual([{ service: 'sample/helloworld', reason }]);
  });

  it('a headless Service beside a normal one: only the normal one is planned', () => {
    const result = planFor(
      [
        ...seedNodes(),
        service('db', { clusterIP: 'None' }),
        service('web'),
        slice('web-1', { service: 'web', endpoints: [ep(POD.w1, 'w1')] }),
      ],
      'w1',
    );
    expect(result.services.map((s) => s.service)).toEqual(['sample/web']);
    expect(result.skipped.map((s) => s.service)).toEqual(['sample/db']);
  });

  it('a Service with no endpoints is planned, not skipped: its connects must fail fast', () => {
    const result = planFor([...seedNodes(), service('helloworld', { trafficDistribution: 'PreferClose' })], 'w1');
    expect(result.skipped).toEqual([]);
    expect(result.services[0]?.entries[0]?.tiers).toEqual(Array.from({ length: 8 }, () => ({ endpoints: [] })));
  });
});
