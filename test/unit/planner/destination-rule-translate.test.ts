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

  it('writes a MAGLEV tier as its table of maglevTableSize slots, the same on every node', () => {
    const rule = destinationRule('h', {
      host: 'helloworld',
      trafficPolicy: { loadBalancer: { consistentHash: { useSourceIp: true, maglev: { tableSize: 97 } } } },
    });
    const objects = [
      node('a'),
      node('b'),
      service('helloworld'),
      slice('hw', { service: 'helloworld', endpoints: [ep('10.0.0.1', 'a'), ep('10.0.0.2', 'b'), ep('10.0.0.3', 'b')] }),
      rule,
    ];
    const [onA] = serviceSpecs(plannedService(planFor(objects, 'a')), new NodeIds());
    const [onB] = serviceSpecs(plannedService(planFor(objects, 'b')), new NodeIds());
    expect(onA?.spec.balance).toBe('MAGLEV');
    const table = onA?.spec.tiers[0]?.map((b) => b.address) ?? [];
    expect(table).toHaveLength(97);
    expect(new Set(table)).toEqual(new Set(['10.0.0.1', '10.0.0.2', '10.0.0.3']));
    expect(onB?.spec.tiers[0]?.map((b) => b.address)).toEqual(table);
  });

  it('programs nothing for a PASSTHROUGH port and the other ports as usual', () => {
    const rule = destinationRule('p', {
      host: 'helloworld',
      trafficPolicy: { portLevelSettings: [{ port: { number: 9000 }, loadBalancer: { simple: 'PASSTHROUGH' } }] },
    });
    const ports = [
      { name: 'http', port: 5000 },
      { name: 'admin', port: 9000 },
    ];
    const objects = [
      node('a'),
      service('helloworld', { ports }),
      slice('hw', { service: 'helloworld', ports, endpoints: [ep('10.0.0.1', 'a')] }),
      rule,
    ];
    const planned = plannedService(planFor(objects, 'a'));
    expect(planned.entries.map((e) => [e.port, e.passthrough ?? false])).toEqual([
      [5000, false],
      [9000, true],
    ]);
    expect(serviceSpecs(planned, new NodeIds()).map((d) => d.spec.key.port)).toEqual([5000]);
  });
});
