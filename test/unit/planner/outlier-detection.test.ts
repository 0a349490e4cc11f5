// outlierDetection at L4: durations and thresholds as Istio reads them, a bad value as the named
// rejection of that rule alone, the nearby.io/outlier-detection annotation for Services without
// Istio, and the settings reaching the datapath spec (TCP ports only).
import { describe, expect, it } from 'vitest';
import { convertObject, parseDurationMs } from '../../../pkg/model/index.js';
import { OUTLIER_ANNOTATION } from '../../../pkg/planner/index.js';
import { NodeIds, serviceSpecs } from '../../../pkg/reconciler/index.js';
import { destinationRule } from './dr-fixtures.js';
import { ep, node, planFor, plannedService, service, slice } from './fixtures.js';

const rule = (outlierDetection: unknown): Record<string, unknown> =>
  destinationRule('hw', { host: 'helloworld', trafficPolicy: { outlierDetection } });

function ruleOutlier(outlierDetection: unknown): unknown {
  const c = convertObject(rule(outlierDetection));
  if (c.status !== 'accepted' || c.object.kind !== 'DestinationRule') throw new Error(JSON.stringify(c));
  return c.object.destinationRule.outlierDetection;
}

function specsFor(objects: unknown[]) {
  const result = planFor(objects, 'a');
  return { specs: serviceSpecs(plannedService(result), new NodeIds()).map((d) => d.spec), warnings: result.warnings };
}

const base = (svc = service('helloworld')): unknown[] => [
  node('a'),
  svc,
  slice('hw', { service: 'helloworld', endpoints: [ep('10.0.0.1', 'a'), ep('10.0.0.2', 'a')] }),
];

describe('Istio durations', () => {
  it.each([
    ['1s', 1000],
    ['100ms', 100],
    ['30s', 30_000],
    ['1m', 60_000],
    ['1h30m', 5_400_000],
    ['1.5s', 1500],
    ['1000us', 1],
  ])('%s is %d ms', (text, ms) => expect(parseDurationMs(text)).toBe(ms));

  it.each(['', '1', 's', '0s', '1.5ms', '500us', '10 s', '-1s', '1d', '1s ', 'ms'])('%j is refused', (text) =>
    expect(parseDurationMs(text)).toBeUndefined(),
  );
});

describe('DestinationRule outlierDetection', () => {
  it("applies Istio's defaults: 5 consecutive errors, 10s interval, 30s base, 10%", () => {
    expect(ruleOutlier({})).toEqual({ consecutiveFailures: 5, maxEjectionPercent: 10, baseEjectionMs: 30_000, intervalMs: 10_000 });
  });

  it('reads every field; the smaller non-zero of the two error counts is the threshold', () => {
    expect(
      ruleOutlier({ consecutive5xxErrors: 7, consecutiveGatewayErrors: 2, interval: '1s', baseEjectionTime: '1m', maxEjectionPercent: 50 }),
    ).toEqual({ consecutiveFailures: 2, maxEjectionPercent: 50, baseEjectionMs: 60_000, intervalMs: 1000 });
    expect(ruleOutlier({ consecutive5xxErrors: 0, consecutiveGatewayErrors: 3 })).toMatchObject({ consecutiveFailures: 3 });
    expect(ruleOutlier({ consecutive5xxErrors: 0 })).toMatchObject({ consecutiveFailures: 0 });
  });

  it.each([
    [{ interval: '0s' }, 'spec.trafficPolicy.outlierDetection.interval'],
    [{ baseEjectionTime: 'soon' }, 'spec.trafficPolicy.outlierDetection.baseEjectionTime'],
    [{ baseEjectionTime: 30 }, 'spec.trafficPolicy.outlierDetection.baseEjectionTime'],
    [{ maxEjectionPercent: 101 }, 'spec.trafficPolicy.outlierDetection.maxEjectionPercent'],
    [{ consecutive5xxErrors: -1 }, 'spec.trafficPolicy.outlierDetection.consecutive5xxErrors'],
    [{ consecutiveGatewayErrors: 1.5 }, 'spec.trafficPolicy.outlierDetection.consecutiveGatewayErrors'],
  ])('refuses %j as dr-bad-outlier naming the field', (outlier, path) => {
    const c = convertObject(rule(outlier));
    expect(c.status).toBe('rejected');
    if (c.status !== 'rejected') return;
    expect(c.rejection.code).toBe('dr-bad-outlier');
    expect(c.rejection.message).toContain(path);
  });

  it('reports the fields it does not apply', () => {
    const c = convertObject(rule({ consecutive5xxErrors: 1, minHealthPercent: 50, splitExternalLocalOriginErrors: true }));
    if (c.status !== 'accepted' || c.object.kind !== 'DestinationRule') throw new Error('not accepted');
    expect(c.object.destinationRule.notApplied).toEqual([
      'spec.trafficPolicy.outlierDetection.minHealthPercent',
      'spec.trafficPolicy.outlierDetection.splitExternalLocalOriginErrors',
    ]);
  });
});

describe('plan -> ServiceSpec', () => {
  it("carries a rule's settings to the datapath spec", () => {
    const { specs } = specsFor([...base(), rule({ consecutive5xxErrors: 1, interval: '1s', baseEjectionTime: '1m' })]);
    expect(specs[0]?.outlier).toEqual({ consecutiveFailures: 1, maxEjectionPercent: 10, baseEjectionMs: 60_000, intervalMs: 1000 });
  });

  it('has none without a rule or annotation, or when both error counts are 0', () => {
    expect(specsFor(base()).specs[0]).not.toHaveProperty('outlier');
    const off = specsFor([...base(), rule({ consecutive5xxErrors: 0 })]);
    expect(off.specs[0]).not.toHaveProperty('outlier');
  });

  it('reads the annotation on a Service without a rule, with the same fields and defaults', () => {
    const annotated = service('helloworld', {
      annotations: { [OUTLIER_ANNOTATION]: '{"consecutive5xxErrors": 3, "baseEjectionTime": "1s"}' },
    });
    const { specs, warnings } = specsFor(base(annotated));
    expect(specs[0]?.outlier).toEqual({ consecutiveFailures: 3, maxEjectionPercent: 10, baseEjectionMs: 1000, intervalMs: 10_000 });
    expect(warnings).toEqual([]);
  });

  it("prefers the rule's settings to the annotation", () => {
    const annotated = service('helloworld', { annotations: { [OUTLIER_ANNOTATION]: '{"consecutive5xxErrors": 3}' } });
    const { specs } = specsFor([...base(annotated), rule({ consecutive5xxErrors: 1 })]);
    expect(specs[0]?.outlier?.consecutiveFailures).toBe(1);
  });

  it.each(['not json', '[1]', '{"interval": "1"}', '{"maxEjectionPercent": 200}'])(
    'warns about annotation %j and ejects nothing',
    (text) => {
      const annotated = service('helloworld', { annotations: { [OUTLIER_ANNOTATION]: text } });
      const { specs, warnings } = specsFor(base(annotated));
      expect(specs[0]).not.toHaveProperty('outlier');
      expect(warnings.map((w) => [w.code, w.kind, w.name])).toEqual([['bad-outlier-annotation', 'Service', 'sample/helloworld']]);
    },
  );

  it('leaves UDP ports out: sock_ops sees no UDP handshake', () => {
    const ports = [
      { name: 'http', port: 5000, protocol: 'TCP' },
      { name: 'dns', port: 53, protocol: 'UDP' },
    ];
    const svc = service('helloworld', { ports, annotations: { [OUTLIER_ANNOTATION]: '{"consecutive5xxErrors": 1}' } });
    const objects = [
      node('a'),
      svc,
      slice('hw', {
        service: 'helloworld',
        ports: [
          { name: 'http', port: 5000, protocol: 'TCP' },
          { name: 'dns', port: 53, protocol: 'UDP' },
        ],
        endpoints: [ep('10.0.0.1', 'a')],
      }),
    ];
    const { specs } = specsFor(objects);
    expect(specs.map((s) => [s.key.protocol, s.outlier?.consecutiveFailures])).toEqual([
      ['UDP', undefined],
      ['TCP', 1],
    ]);
  });
});
