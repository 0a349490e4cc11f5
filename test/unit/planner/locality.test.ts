/** Where locality comes from: node labels, the subzone label pair, the zone-field fallback. */
import { describe, expect, it } from 'vitest';
import { buildSnapshot, type Endpoint, type Node } from '../../../pkg/model/index.js';
import { endpointLocality, nodeLocality } from '../../../pkg/planner/index.js';
import { ep, node, planFor, POD, seedNodes, service, slice, tierAddresses, tiers } from './fixtures.js';

function modelNode(labels: Record<string, string>, name = 'n'): Node {
  return { name, labels };
}

describe('nodeLocality', () => {
  it.each<{ name: string; labels: Record<string, string>; locality: Record<string, string> }>([
    {
      name: 'every label',
      labels: {
        'topology.istio.io/network': 'net',
        'topology.kubernetes.io/region': 'r',
        'topology.kubernetes.io/zone': 'z',
        'topology.istio.io/subzone': 's',
      },
      locality: { network: 'net', region: 'r', zone: 'z', subzone: 's', node: 'n' },
    },
    {
      name: 'the Kubernetes-style subzone label the seeds use',
      labels: { 'topology.kubernetes.io/subzone': 'k' },
      locality: { network: '', region: '', zone: '', subzone: 'k', node: 'n' },
    },
    {
      name: 'the Istio subzone label wins when both are set',
      labels: { 'topology.kubernetes.io/subzone': 'k', 'topology.istio.io/subzone': 'i' },
      locality: { network: '', region: '', zone: '', subzone: 'i', node: 'n' },
    },
    {
      name: 'an empty Istio subzone label does not hide the Kubernetes one',
      labels: { 'topology.kubernetes.io/subzone': 'k', 'topology.istio.io/subzone': '' },
      locality: { network: '', region: '', zone: '', subzone: 'k', node: 'n' },
    },
    {
      name: 'no labels: every scope known to be empty',
      labels: {},
      locality: { network: '', region: '', zone: '', subzone: '', node: 'n' },
    },
  ])('$name', ({ labels, locality }) => {
    expect(nodeLocality(modelNode(labels))).toEqual(locality);
  });
});

describe('endpointLocality', () => {
  const { snapshot } = buildSnapshot(seedNodes());
  const endpoint = (fields: Partial<Endpoint>): Endpoint => ({ addresses: ['10.0.0.1'], conditions: {}, ...fields });

  it.each([
    {
      name: 'the labels of the Node named by nodeName',
      endpoint: endpoint({ nodeName: 'w2', zone: 'ignored-when-the-node-is-known' }),
      expected: { locality: { network: '', region: 'r', zone: 'z1', subzone: 's2', node: 'w2' }, source: 'node' },
    },
    {
      name: 'the zone field when the Node is unknown',
      endpoint: endpoint({ nodeName: 'w9', zone: 'z1' }),
      expected: { locality: { zone: 'z1', node: 'w9' }, source: 'zone-field' },
    },
    {
      name: 'the zone field when the endpoint names no node',
      endpoint: endpoint({ zone: 'z2' }),
      expected: { locality: { zone: 'z2' }, source: 'zone-field' },
    },
    {
      name: 'nothing but the node name when the Node is unknown and there is no zone',
      endpoint: endpoint({ nodeName: 'w9' }),
      expected: { locality: { node: 'w9' }, source: 'none' },
    },
    { name: 'nothing at all', endpoint: endpoint({}), expected: { locality: {}, source: 'none' } },
  ])('$name', ({ endpoint: e, expected }) => {
    expect(endpointLocality(snapshot, e)).toEqual(expected);
  });
});

describe('locality in a plan', () => {
  const preferClose = service('helloworld', { trafficDistribution: 'PreferClose' });

  it('relabelling a node re-ranks its endpoints: the plan follows node labels, not the slice', () => {
    const endpoints = [ep(POD.w2, 'w2', { zone: 'z1' }), ep(POD.w3, 'w3', { zone: 'z2' })];
    const before = planFor([...seedNodes(), preferClose, slice('hw-1', { service: 'helloworld', endpoints })], 'w1');
    expect(tierAddresses(before)).toEqual(tiers(8, { 1: [POD.w2], 2: [POD.w3] }));

    const relabelled = [seedNodes()[0], seedNodes()[1], node('w3', { region: 'r', zone: 'z1', subzone: 's1' })];
    const after = planFor([...relabelled, preferClose, slice('hw-1', { service: 'helloworld', endpoints })], 'w1');
    expect(tierAddresses(after)).toEqual(tiers(8, { 0: [POD.w3], 1: [POD.w2] }));
  });

  it('Istio subzone labels on nodes are read the same way', () => {
    const nodes = [
      node('w1', { region: 'r', zone: 'z1', istioSubzone: 'a', subzone: 'x' }),
      node('w2', { region: 'r', zone: 'z1', istioSubzone: 'a', subzone: 'y' }),
      node('w3', { region: 'r', zone: 'z1', istioSubzone: 'b', subzone: 'x' }),
    ];
    const endpoints = [ep(POD.w2, 'w2'), ep(POD.w3, 'w3')];
    const result = planFor([...nodes, preferClose, slice('hw-1', { service: 'helloworld', endpoints })], 'w1');
    expect(tierAddresses(result)).toEqual(tiers(8, { 0: [POD.w2], 1: [POD.w3] }));
  });

  it('an endpoint on an unknown node is ranked by its zone field, with a warning', () => {
    const endpoints = [
      ep('10.244.9.1', 'w9', { zone: 'z1' }),
      ep('10.244.9.2', 'w8', { zone: 'z2' }),
      ep('10.244.9.3', 'w7'),
      ep(POD.w3, 'w3'),
    ];
    const result = planFor([...seedNodes(), preferClose, slice('hw-1', { service: 'helloworld', endpoints })], 'w1');
    expect(tierAddresses(result)).toEqual(tiers(8, { 1: ['10.244.9.1'], 2: [POD.w3], 7: ['10.244.9.2', '10.244.9.3'] }));
    const unknownNode = (message: string) => ({ code: 'unknown-endpoint-node', kind: 'EndpointSlice', name: 'sample/hw-1', message });
    expect(result.warnings).toEqual([
      unknownNode('endpoint 10.244.9.1 names node w9, which is unknown; ranked by its zone field "z1"'),
      unknownNode('endpoint 10.244.9.2 names node w8, which is unknown; ranked by its zone field "z2"'),
      unknownNode('endpoint 10.244.9.3 names node w7, which is unknown; ranked as matching nothing'),
    ]);
  });

  it('this node missing from the snapshot: a warning, and only its own endpoints count as close', () => {
    const nodes = seedNodes().slice(1);
    const endpoints = [ep(POD.w1, 'w1'), ep(POD.w2, 'w2'), ep(POD.w3, 'w3')];
    const result = planFor(
      [...nodes, service('helloworld', { trafficDistribution: 'PreferSameNode' }), slice('hw-1', { service: 'helloworld', endpoints })],
      'w1',
    );
    expect(tierAddresses(result)).toEqual(tiers(8, { 0: [POD.w1], 7: [POD.w2, POD.w3] }));
    expect(result.warnings).toContainEqual({
      code: 'unknown-client-node',
      kind: 'Node',
      name: 'w1',
      message: 'this node is not in the snapshot, so only endpoints on it are known to be close',
    });
  });
});
