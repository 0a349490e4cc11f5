/**
 * Topology Aware Routing hints, by kube-proxy's rules: read for a Service with no other locality
 * rule, whenever present; used only when every ready endpoint has them and one is for this node
 * (node hints) or its zone (zone hints); node hints first; else every endpoint.
 */
import { describe, expect, it } from 'vitest';
import { convertObject, keepReadFields } from '../../../pkg/model/index.js';
import { explainEndpoint } from '../../../pkg/planner/index.js';
import { destinationRule, localityRule } from './dr-fixtures.js';
import {
  ep,
  node,
  planFor,
  plannedService,
  POD,
  seedNodes,
  service,
  slice,
  snapshotOf,
  tierAddresses,
  type EndpointSpec,
} from './fixtures.js';

const HOST = 'helloworld.sample.svc.cluster.local';
const w1 = (more: Omit<EndpointSpec, 'address' | 'node'> = {}): EndpointSpec => ep(POD.w1, 'w1', more);
const w2 = (more: Omit<EndpointSpec, 'address' | 'node'> = {}): EndpointSpec => ep(POD.w2, 'w2', more);
const w3 = (more: Omit<EndpointSpec, 'address' | 'node'> = {}): EndpointSpec => ep(POD.w3, 'w3', more);
const ALL = [POD.w1, POD.w2, POD.w3];

/** Zone hints as the EndpointSlice controller writes them for the seed: each pod for its own zone. */
const zoneHinted = (): EndpointSpec[] => [w1({ forZones: ['z1'] }), w2({ forZones: ['z1'] }), w3({ forZones: ['z2'] })];

function planned(endpoints: EndpointSpec[], client = 'w1', svc = service('helloworld'), extra: unknown[] = []) {
  const result = planFor(
    [...seedNodes(), node('w4', { region: 'r' }), svc, slice('hw-1', { service: 'helloworld', endpoints }), ...extra],
    client,
  );
  return { result, tiers: tierAddresses(result), reason: plannedService(result).reason, mode: plannedService(result).mode };
}

describe('topology hints', () => {
  it.each([
    {
      name: 'no hints: every endpoint',
      endpoints: [w1(), w2(), w3()],
      client: 'w1',
      want: ALL,
      why: 'no locality policy: RANDOM over every eligible endpoint',
    },
    { name: 'zone hints for the zone of w1', endpoints: zoneHinted(), client: 'w1', want: [POD.w1, POD.w2], why: 'zone hints' },
    { name: 'zone hints for the zone of w3', endpoints: zoneHinted(), client: 'w3', want: [POD.w3], why: 'some are for zone z2' },
    {
      name: 'a ready endpoint without a zone hint: every endpoint',
      endpoints: [w1({ forZones: ['z1'] }), w2(), w3({ forZones: ['z2'] })],
      client: 'w1',
      want: ALL,
      why: 'not every ready endpoint has a zone hint',
    },
    {
      name: 'an endpoint that is not ready does not count',
      endpoints: [w1({ forZones: ['z1'] }), w2({ ready: false }), w3({ forZones: ['z2'] })],
      client: 'w1',
      want: [POD.w1],
      why: 'some are for zone z1',
    },
    {
      name: 'no zone hint for this zone: every endpoint',
      endpoints: [w1({ forZones: ['z2'] }), w2({ forZones: ['z2'] }), w3({ forZones: ['z2'] })],
      client: 'w1',
      want: ALL,
      why: 'no zone hint is for z1',
    },
    {
      name: 'this node has no zone label: every endpoint',
      endpoints: zoneHinted(),
      client: 'w4',
      want: ALL,
      why: 'this node has no topology.kubernetes.io/zone label',
    },
    {
      name: 'node hints come before zone hints',
      endpoints: [
        w1({ forZones: ['z1'], forNodes: ['w1'] }),
        w2({ forZones: ['z1'], forNodes: ['w2'] }),
        w3({ forZones: ['z2'], forNodes: ['w3'] }),
      ],
      client: 'w1',
      want: [POD.w1],
      why: 'node hints: every ready endpoint has one and some are for w1',
    },
    {
      name: 'node hints without one for this node: zone hints',
      endpoints: [
        w1({ forZones: ['z1'], forNodes: ['w3'] }),
        w2({ forZones: ['z1'], forNodes: ['w3'] }),
        w3({ forZones: ['z2'], forNodes: ['w3'] }),
      ],
      client: 'w2',
      want: [POD.w1, POD.w2],
      why: 'zone hints (no node hint is for w2)',
    },
    {
      name: 'a ready endpoint without a node hint: zone hints',
      endpoints: [w1({ forZones: ['z1'], forNodes: ['w1'] }), w2({ forZones: ['z1'] }), w3({ forZones: ['z2'], forNodes: ['w3'] })],
      client: 'w1',
      want: [POD.w1, POD.w2],
      why: 'zone hints (not every ready endpoint has a node hint)',
    },
    {
      name: 'node hints only, none for this node, no zone hints: every endpoint',
      endpoints: [w1({ forNodes: ['w3'] }), w2({ forNodes: ['w3'] }), w3({ forNodes: ['w3'] })],
      client: 'w1',
      want: ALL,
      why: 'no node hint is for w1, and not every ready endpoint has a zone hint',
    },
    {
      name: 'no endpoint ready: the serving terminating ones, hints not used',
      endpoints: [
        w1({ forZones: ['z2'], ready: false, serving: true, terminating: true }),
        w3({ forZones: ['z2'], ready: false, serving: true, terminating: true }),
      ],
      client: 'w1',
      want: [POD.w1, POD.w3],
      why: 'no endpoint is ready',
    },
  ])('$name', ({ endpoints, client, want, why }) => {
    const { tiers, reason, mode } = planned(endpoints, client);
    expect(mode).toBe('RANDOM');
    expect(tiers).toEqual([want]);
    expect(reason).toContain(why);
  });

  it('does not look at the topology-mode annotation', () => {
    for (const mode of [undefined, 'Auto', 'Disabled', 'bogus']) {
      const svc = service('helloworld', { annotations: mode ? { 'service.kubernetes.io/topology-mode': mode } : {} });
      expect(planned(zoneHinted(), 'w1', svc).tiers).toEqual([[POD.w1, POD.w2]]);
    }
  });

  it.each([
    { name: 'trafficDistribution', svc: service('helloworld', { trafficDistribution: 'PreferSameZone' }), extra: [], mode: 'FAILOVER' },
    {
      name: 'the Istio annotation',
      svc: service('helloworld', { annotations: { 'networking.istio.io/traffic-distribution': 'PreferClose' } }),
      extra: [],
      mode: 'FAILOVER',
    },
    { name: 'internalTrafficPolicy Local', svc: service('helloworld', { internalTrafficPolicy: 'Local' }), extra: [], mode: 'STRICT' },
    {
      name: 'a DestinationRule with a localityLbSetting',
      svc: service('helloworld'),
      extra: [localityRule('hw', HOST, { failover: [{ from: 'r', to: 'q' }] })],
      mode: 'FAILOVER',
    },
    {
      name: 'a DestinationRule without one',
      svc: service('helloworld'),
      extra: [destinationRule('hw', { host: HOST, trafficPolicy: { loadBalancer: { simple: 'ROUND_ROBIN' } } })],
      mode: 'RANDOM',
    },
  ])('are not used when the Service has $name', ({ svc, extra, mode }) => {
    // Every endpoint hinted for zone z2: hints would leave only w3's to a client on w1.
    const endpoints = [w1({ forZones: ['z2'] }), w2({ forZones: ['z2'] }), w3({ forZones: ['z2'] })];
    const { result, reason } = planned(endpoints, 'w1', svc, extra);
    expect(plannedService(result).mode).toBe(mode);
    expect(reason).not.toContain('hint');
    const used = result.services[0]!.entries[0]!.tiers.flatMap((t) => t.endpoints.map((e) => e.address));
    if (mode !== 'STRICT') expect(used).toContain(POD.w1);
  });

  it('warns of a zone no node is in, and still plans by the hints', () => {
    const endpoints = [w1({ forZones: ['z1'] }), w2({ forZones: ['z1', 'z9'] }), w3({ forZones: ['z2'] })];
    const { result, tiers } = planned(endpoints, 'w1');
    expect(tiers).toEqual([[POD.w1, POD.w2]]);
    expect(result.warnings.filter((w) => w.code === 'hint-unknown-zone')).toEqual([
      {
        code: 'hint-unknown-zone',
        kind: 'EndpointSlice',
        name: 'sample/hw-1',
        message: 'an endpoint is hinted for zone "z9", which no Node is in',
      },
    ]);
  });

  it('says per port which rule applied when ports differ', () => {
    const ports = [
      { name: 'http', port: 5000, protocol: 'TCP' },
      { name: 'grpc', port: 6000, protocol: 'TCP' },
    ];
    const svc = service('helloworld', { ports });
    const objects = [
      ...seedNodes(),
      svc,
      slice('hw-http', { service: 'helloworld', ports: [ports[0]!], endpoints: zoneHinted() }),
      slice('hw-grpc', { service: 'helloworld', ports: [ports[1]!], endpoints: [w1(), w2(), w3()] }),
    ];
    const result = planFor(objects, 'w1');
    expect(tierAddresses(result, 'sample/helloworld', 0)).toEqual([[POD.w1, POD.w2]]);
    expect(tierAddresses(result, 'sample/helloworld', 1)).toEqual([ALL]);
    expect(plannedService(result).reason).toContain('IPv4 port 5000/TCP: zone hints');
  });

  it('explains an endpoint left out by the hints', () => {
    const snapshot = snapshotOf([...seedNodes(), service('helloworld'), slice('hw-1', { service: 'helloworld', endpoints: zoneHinted() })]);
    const why = explainEndpoint(snapshot, 'w1', 'sample/helloworld', POD.w3);
    expect(why.placements).toEqual([]);
    expect(why.lines.join('\n')).toContain('zone hints');
    expect(why.lines.join('\n')).toContain('hints: forZones=["z2"] forNodes=[]');
  });
});

describe('hints in the model', () => {
  const convert = (endpoint: Record<string, unknown>) => {
    const raw = {
      ...slice('hw-1', { service: 'helloworld', endpoints: [] }),
      endpoints: [{ addresses: [POD.w1], conditions: {}, ...endpoint }],
    };
    return convertObject(keepReadFields(raw));
  };
  const hintsOf = (endpoint: Record<string, unknown>) => {
    const c = convert(endpoint);
    return c.status === 'accepted' && c.object.kind === 'EndpointSlice' ? c.object.endpointSlice.endpoints[0]?.hints : 'rejected';
  };

  it('keeps zone and node hints through the read-fields cache', () => {
    expect(hintsOf({ hints: { forZones: [{ name: 'z1' }], forNodes: [{ name: 'w1' }] } })).toEqual({ forZones: ['z1'], forNodes: ['w1'] });
    expect(hintsOf({ hints: { forZones: [{ name: 'z1' }, { name: 'z2' }] } })).toEqual({ forZones: ['z1', 'z2'], forNodes: [] });
  });

  it('reads empty hint lists as no hints', () => {
    expect(hintsOf({ hints: { forZones: [], forNodes: [] } })).toBeUndefined();
    expect(hintsOf({})).toBeUndefined();
  });

  it('rejects a hint without a name, naming the field', () => {
    const c = convert({ hints: { forZones: [{}] } });
    expect(c.status === 'rejected' && [c.rejection.code, c.rejection.message]).toEqual([
      'missing-field',
      expect.stringContaining('endpoints[0].hints.forZones[0].name'),
    ]);
  });
});
