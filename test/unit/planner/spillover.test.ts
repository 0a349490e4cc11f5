// Gradual spillover between tiers: Envoy's priority load as pkg/contract states it, which
// Services spill (DestinationRule, annotation, --spillover; never STRICT), the n and ready counts
// the planner gives per tier, and what translate hands the datapath.
import { describe, expect, it } from 'vitest';
import { priorityLoad, tierHealth } from '../../../pkg/contract/index.js';
import { SPILLOVER_ANNOTATION } from '../../../pkg/planner/index.js';
import { NodeIds, serviceSpecs } from '../../../pkg/reconciler/index.js';
import { destinationRule } from './dr-fixtures.js';
import { ep, planFor, plannedService, seedNodes, service, slice } from './fixtures.js';
import { FACTOR, HEALTH_CASES, TIER0_OF_FOUR } from './priority-load-table.js';

describe('priorityLoad (pkg/contract)', () => {
  it.each(HEALTH_CASES)('healths $healths give loads $loads', ({ healths, loads }) => {
    expect(priorityLoad(healths)).toEqual(loads);
  });

  it.each(TIER0_OF_FOUR)('factor 1.4, $healthy of 4 healthy in tier 0, tier 1 healthy: $loads', ({ healthy, loads }) => {
    expect(priorityLoad([tierHealth(4, healthy, FACTOR), tierHealth(4, 4, FACTOR)])).toEqual(loads);
  });

  it('a tier without endpoints has no health, and health never passes 100', () => {
    expect(tierHealth(0, 0, FACTOR)).toBe(0);
    expect(tierHealth(4, 4, FACTOR)).toBe(100);
    expect(tierHealth(4, 2, FACTOR)).toBe(70);
    expect(tierHealth(4, 1, 100)).toBe(25);
  });

  it('loads always sum to 100 when any tier has health', () => {
    for (let a = 0; a <= 100; a += 7) for (let b = 1; b <= 100; b += 11) expect(priorityLoad([a, b, 3]).reduce((x, y) => x + y)).toBe(100);
  });
});

// Client w1: tier 0 is w1's subzone, tier 1 the rest of zone z1 (w2), tier 2 zone z2 (w3).
const W1 = ['10.244.1.1', '10.244.1.2', '10.244.1.3', '10.244.1.4'];
const endpoints = () => [
  ep(W1[0]!, 'w1'),
  ep(W1[1]!, 'w1'),
  ep(W1[2]!, 'w1', { ready: false }),
  ep(W1[3]!, 'w1', { ready: false, serving: true, terminating: true }),
  ep('10.244.2.1', 'w2'),
  ep('10.244.2.2', 'w2'),
];
const hwRule = (trafficPolicy: Record<string, unknown> = { loadBalancer: { simple: 'RANDOM' } }) =>
  destinationRule('hw', { host: 'helloworld', trafficPolicy });

function planned(annotations: Record<string, string>, extra: unknown[] = [], options = {}, svc: Record<string, unknown> = {}) {
  const objects = [
    ...seedNodes(),
    service('helloworld', { annotations, trafficDistribution: 'PreferClose', ...svc }),
    slice('hw', { service: 'helloworld', endpoints: endpoints() }),
    ...extra,
  ];
  const result = planFor(objects, 'w1', options);
  return { service: plannedService(result), warnings: result.warnings };
}

describe('which Services spill over', () => {
  it('trafficDistribution alone keeps all-or-nothing failover by default', () => {
    const { service: s } = planned({});
    expect(s.mode).toBe('FAILOVER');
    expect(s.entries[0]!.spillover).toBeUndefined();
    expect(serviceSpecs(s, new NodeIds())[0]!.spec.mode).toBe('FAILOVER');
  });

  it('a DestinationRule makes a FAILOVER Service spill with factor 1.4, as Istio users expect', () => {
    const { service: s } = planned({}, [hwRule()]);
    expect(s.mode).toBe('FAILOVER');
    expect(s.entries[0]!.spillover?.overprovisionPercent).toBe(140);
    expect(s.reason).toContain('spills over gradually');
  });

  it.each([
    ['true', 140],
    ['TRUE', 140],
    ['1.4', 140],
    ['2', 200],
    [' 1.25 ', 125],
  ])('annotation %j opts in with factor %d%%', (value, percent) => {
    expect(planned({ [SPILLOVER_ANNOTATION]: value }).service.entries[0]!.spillover?.overprovisionPercent).toBe(percent);
  });

  it('annotation "false" opts out even with a DestinationRule', () => {
    expect(planned({ [SPILLOVER_ANNOTATION]: 'false' }, [hwRule()]).service.entries[0]!.spillover).toBeUndefined();
  });

  it.each(['yes', '0', '0.5', '-1', '1e3', '101', ''])('a bad annotation %j warns by name and keeps all-or-nothing', (value) => {
    const { service: s, warnings } = planned({ [SPILLOVER_ANNOTATION]: value }, [hwRule()]);
    expect(s.entries[0]!.spillover).toBeUndefined();
    expect(warnings.map((w) => [w.code, w.kind, w.name])).toEqual([['bad-spillover-annotation', 'Service', 'sample/helloworld']]);
  });

  it('--spillover all spills every FAILOVER Service; off spills annotated ones only', () => {
    expect(planned({}, [], { spillover: 'all' }).service.entries[0]!.spillover?.overprovisionPercent).toBe(140);
    expect(planned({}, [hwRule()], { spillover: 'off' }).service.entries[0]!.spillover).toBeUndefined();
    expect(planned({ [SPILLOVER_ANNOTATION]: '1.4' }, [], { spillover: 'off' }).service.entries[0]!.spillover).toBeDefined();
  });

  it('STRICT never spills, even when asked to', () => {
    const { service: s } = planned({ [SPILLOVER_ANNOTATION]: 'true' }, [], { spillover: 'all' }, { internalTrafficPolicy: 'Local' });
    expect(s.mode).toBe('STRICT');
    expect(s.entries[0]!.spillover).toBeUndefined();
  });

  it('WEIGHTED (distribute) keeps its weights', () => {
    const distribute = hwRule({
      loadBalancer: { localityLbSetting: { distribute: [{ from: 'r/z1/*', to: { 'r/z1/*': 80, 'r/z2/*': 20 } }] } },
    });
    const { service: s } = planned({ [SPILLOVER_ANNOTATION]: 'true' }, [distribute]);
    expect(s.mode).toBe('WEIGHTED');
    expect(s.entries[0]!.spillover).toBeUndefined();
  });
});

describe('n and ready per tier', () => {
  it('n counts the endpoints that are not terminating, ready or not; ready the planned ready ones', () => {
    const entry = planned({ [SPILLOVER_ANNOTATION]: 'true' }).service.entries[0]!;
    expect(entry.tiers[0]!.endpoints.map((e) => e.address)).toEqual([W1[0], W1[1]]);
    expect(entry.spillover?.endpoints.slice(0, 3)).toEqual([3, 2, 0]);
    expect(entry.spillover?.ready.slice(0, 3)).toEqual([2, 2, 0]);
    expect(entry.spillover?.endpoints).toHaveLength(entry.tiers.length);
  });

  it('translate writes SPILLOVER with the counts, and a MAGLEV tier counts each endpoint once', () => {
    const maglev = hwRule({ loadBalancer: { consistentHash: { useSourceIp: true, maglev: { tableSize: 61 } } } });
    const { service: s } = planned({ [SPILLOVER_ANNOTATION]: '1.4' }, [maglev]);
    const spec = serviceSpecs(s, new NodeIds())[0]!.spec;
    expect(spec.mode).toBe('SPILLOVER');
    expect(spec.balance).toBe('MAGLEV');
    expect(spec.tiers[0]!.length).toBe(61);
    expect(spec.spillover).toEqual({
      overprovisionPercent: 140,
      endpoints: s.entries[0]!.spillover!.endpoints,
      ready: s.entries[0]!.spillover!.ready,
    });
    expect(spec.spillover!.ready[0]).toBe(2);
  });

  it('a Service left with terminating endpoints only has no ready ones anywhere', () => {
    const objects = [
      ...seedNodes(),
      service('helloworld', { annotations: { [SPILLOVER_ANNOTATION]: 'true' }, trafficDistribution: 'PreferClose' }),
      slice('hw', { service: 'helloworld', endpoints: [ep(W1[3]!, 'w1', { ready: false, serving: true, terminating: true })] }),
    ];
    const entry = plannedService(planFor(objects, 'w1')).entries[0]!;
    expect(entry.tiers[0]!.endpoints).toHaveLength(1);
    expect(entry.spillover?.endpoints.every((n) => n === 0)).toBe(true);
    expect(entry.spillover?.ready.every((n) => n === 0)).toBe(true);
  });
});
