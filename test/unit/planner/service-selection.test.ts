/**
 * Which Services nearby takes over: the service.kubernetes.io/service-proxy-name label first
 * (kube-proxy leaves alone every Service that carries it), then PlanOptions.services.
 */
import { describe, expect, it } from 'vitest';
import { convertObject, keepReadFields } from '../../../pkg/model/index.js';
import type { PlanOptions } from '../../../pkg/planner/index.js';
import { destinationRule, localityRule } from './dr-fixtures.js';
import { ep, namespace, planFor, POD, seedEndpoints, seedNodes, service, slice, type ServiceSpec } from './fixtures.js';

const LABEL = 'service.kubernetes.io/service-proxy-name';
const HOST = 'helloworld.sample.svc.cluster.local';

function outcome(spec: ServiceSpec, options: Partial<PlanOptions> = {}, extra: unknown[] = []) {
  const objects = [
    ...seedNodes(),
    service('helloworld', spec),
    slice('hw-1', { service: 'helloworld', endpoints: seedEndpoints() }),
    ...extra,
  ];
  const result = planFor(objects, 'w1', options);
  return {
    planned: result.services.find((s) => s.service === 'sample/helloworld'),
    skipped: result.skipped.find((s) => s.service === 'sample/helloworld'),
    warnings: result.warnings,
  };
}

describe('service-proxy-name', () => {
  it('keeps the label value in the model, empty included, through the read-fields cache', () => {
    for (const value of ['nearby', 'other', '']) {
      const raw = keepReadFields(service('helloworld', { labels: { [LABEL]: value } }));
      const conversion = convertObject(raw);
      expect(conversion.status === 'accepted' && conversion.object.kind === 'Service' && conversion.object.service.serviceProxyName).toBe(
        value,
      );
    }
    const unlabelled = convertObject(service('helloworld'));
    expect(
      unlabelled.status === 'accepted' && unlabelled.object.kind === 'Service' && 'serviceProxyName' in unlabelled.object.service,
    ).toBe(false);
  });

  it.each([
    { name: 'unlabelled', labels: undefined, options: {}, taken: true },
    { name: "nearby's default name", labels: { [LABEL]: 'nearby' }, options: {}, taken: true },
    { name: 'another proxy', labels: { [LABEL]: 'cilium' }, options: {}, taken: false },
    {
      name: "nearby's name when nearby is called otherwise",
      labels: { [LABEL]: 'nearby' },
      options: { serviceProxyName: 'nearby-b' },
      taken: false,
    },
    { name: 'a configured name', labels: { [LABEL]: 'nearby-b' }, options: { serviceProxyName: 'nearby-b' }, taken: true },
    { name: 'an empty value', labels: { [LABEL]: '' }, options: {}, taken: false },
  ])('$name', ({ labels, options, taken }) => {
    const { planned, skipped } = outcome(labels ? { labels } : {}, options);
    expect(planned !== undefined).toBe(taken);
    expect(skipped !== undefined).toBe(!taken);
  });

  it("marks only a Service under nearby's own name exclusive, so it never fails open", () => {
    const mine = outcome({ labels: { [LABEL]: 'nearby' } }).planned!;
    expect(mine.entries.length).toBeGreaterThan(0);
    expect(mine.entries.every((e) => e.exclusive === true)).toBe(true);
    const unlabelled = outcome({}).planned!;
    expect(unlabelled.entries.some((e) => 'exclusive' in e)).toBe(false);
  });

  it('says why another proxy keeps a Service, without a warning', () => {
    const { skipped, warnings } = outcome({ labels: { [LABEL]: 'cilium' } });
    expect(skipped?.reason).toBe(`left alone: labelled ${LABEL}="cilium", another proxy's (nearby's is "nearby")`);
    expect(warnings).toEqual([]);
  });

  it('warns of an empty value, which no proxy serves', () => {
    const { skipped, warnings } = outcome({ labels: { [LABEL]: '' } });
    expect(skipped?.reason).toContain('kube-proxy ignores every Service carrying the label');
    expect(warnings.map((w) => [w.code, w.name])).toEqual([['service-proxy-name-empty', 'sample/helloworld']]);
  });

  it("says a Service labelled with nearby's name is nearby's alone", () => {
    const { planned } = outcome({ labels: { [LABEL]: 'nearby' } }, { services: 'with-policy' });
    expect(planned?.mode).toBe('RANDOM');
    expect(planned?.reason).toContain('kube-proxy ignores it, so nearby is its only proxy');
  });

  it('leaves the other Services as they were', () => {
    const objects = [
      ...seedNodes(),
      service('helloworld', { labels: { [LABEL]: 'cilium' } }),
      service('other', { clusterIP: '10.96.0.101' }),
      slice('other-1', { service: 'other', endpoints: [ep(POD.w1, 'w1')] }),
    ];
    const result = planFor(objects, 'w1');
    expect(result.services.map((s) => s.service)).toEqual(['sample/other']);
  });
});

describe('services: with-policy', () => {
  const ruleFor = (trafficPolicy: Record<string, unknown>) => destinationRule('hw', { host: HOST, trafficPolicy });
  it.each([
    { name: 'no policy', spec: {}, extra: [], taken: false },
    { name: 'internalTrafficPolicy Cluster', spec: { internalTrafficPolicy: 'Cluster' }, extra: [], taken: false },
    { name: 'an unknown trafficDistribution', spec: { trafficDistribution: 'Nearest' }, extra: [], taken: false },
    { name: 'trafficDistribution', spec: { trafficDistribution: 'PreferClose' }, extra: [], taken: true },
    {
      name: 'the Istio annotation',
      spec: { annotations: { 'networking.istio.io/traffic-distribution': 'PreferSameZone' } },
      extra: [],
      taken: true,
    },
    {
      name: "the Istio annotation on the Service's namespace",
      spec: {},
      extra: [namespace('sample', { 'networking.istio.io/traffic-distribution': 'PreferClose' })],
      taken: true,
    },
    { name: 'internalTrafficPolicy Local', spec: { internalTrafficPolicy: 'Local' }, extra: [], taken: true },
    {
      name: 'a DestinationRule localityLbSetting',
      spec: {},
      extra: [localityRule('hw', HOST, { failover: [{ from: 'r', to: 'q' }] })],
      taken: true,
    },
    { name: 'a DestinationRule simple balancer', spec: {}, extra: [ruleFor({ loadBalancer: { simple: 'ROUND_ROBIN' } })], taken: true },
    {
      name: 'a DestinationRule port-level balancer',
      spec: {},
      extra: [ruleFor({ portLevelSettings: [{ port: { number: 5000 }, loadBalancer: { simple: 'LEAST_REQUEST' } }] })],
      taken: true,
    },
    {
      name: 'a DestinationRule with no balancing',
      spec: {},
      extra: [ruleFor({ connectionPool: { tcp: { maxConnections: 10 } } })],
      taken: false,
    },
  ])('$name', ({ spec, extra, taken }) => {
    const { planned, skipped } = outcome(spec, { services: 'with-policy' }, extra);
    expect(planned !== undefined).toBe(taken);
    if (!taken) expect(skipped?.reason).toContain('--services=with-policy and it has no locality policy');
    // 'all' takes every one of them.
    expect(outcome(spec, { services: 'all' }, extra).planned).toBeDefined();
  });

  it('leaves a Service with only topology hints to kube-proxy, which reads them the same way', () => {
    const objects = [
      ...seedNodes(),
      service('helloworld'),
      slice('hw-1', { service: 'helloworld', endpoints: [ep(POD.w1, 'w1', { forZones: ['z1'] }), ep(POD.w3, 'w3', { forZones: ['z2'] })] }),
    ];
    expect(planFor(objects, 'w1', { services: 'with-policy' }).skipped.map((s) => s.service)).toEqual(['sample/helloworld']);
  });
});
