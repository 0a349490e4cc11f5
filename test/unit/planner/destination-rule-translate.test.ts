// A WEIGHTED plan and a rule's balance reach the datapath spec.
import { describe, expect, it } from 'vitest';
import { NodeIds, serviceSpecs } from '../../../pkg/reconciler/index.js';
import { destinationRule } from './dr-fixtures.js';
import { ep, node, planFor, plannedService, service, slice } from './fixtures.js';

describe('DestinationRule plan -> ServiceSpec', () => {
  it('passes weights and balance', () => {
    const rule = destinationRule('w', {
      host: 'helloworld',
      trafficPolicy: {
        loadBalancer: { simple: 'LEAST_CONN', localityLbSetting: { distribute: [{ from: 'r/*', to: { 'r/a': 80, 'r/b': 20 } }] } },
      },
    });
    const objects = [
      node('a', { region: 'r', zone: 'a' }),
      node('b', { region: 'r', zone: 'b' }),
      service('helloworld'),
      slice('hw', { service: 'helloworld', endpoints: [ep('10.0.0.1', 'a'), ep('10.0.0.2', 'b')] }),
      rule,
    ];
    const [desired] = serviceSpecs(plannedService(planFor(objects, 'a')), new NodeIds());
    expect(desired?.spec).toMatchObject({ mode: 'WEIGHTED', weights: [80, 20], balance: 'LEAST_REQUEST' });
    expect(desired?.spec.tiers.map((t) => t.map((b) => b.address))).toEqual([['10.0.0.1'], ['10.0.0.2']]);
  });

  it('leaves both out without a rule', () => {
    const objects = [node('a'), service('helloworld'), slice('hw', { service: 'helloworld', endpoints: [ep('10.0.0.1', 'a')] })];
    const [desired] = serviceSpecs(plannedService(planFor(objects, 'a')), new NodeIds());
    expect(desired?.spec).not.toHaveProperty('weights');
    expect(desired?.spec).not.toHaveProperty('balance');
  });
});
