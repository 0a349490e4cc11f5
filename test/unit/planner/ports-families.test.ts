/** Ports are matched by name and rewritten to the target port; every family and TCP/UDP. */
import { describe, expect, it } from 'vitest';
import {
  ep,
  entryOf,
  planFor,
  plannedService,
  POD,
  POD6,
  SEED_VIP,
  SEED_VIP6,
  seedNodes,
  service,
  slice,
  tierAddresses,
} from './fixtures.js';

const endpointsOf = (result: ReturnType<typeof planFor>, index = 0): Array<[string, number]> =>
  entryOf(result, 'sample/helloworld', index).tiers.flatMap((t) => t.endpoints.map((e): [string, number] => [e.address, e.port]));

describe('ports', () => {
  it('rewrites the Service port to the target port of the slice port with the same name', () => {
    const objects = [
      ...seedNodes(),
      service('helloworld', { ports: [{ name: 'web', port: 80 }] }),
      slice('hw-1', {
        service: 'helloworld',
        ports: [
          { name: 'other', port: 9999 },
          { name: 'web', port: 8080 },
        ],
        endpoints: [ep(POD.w1, 'w1')],
      }),
    ];
    const result = planFor(objects, 'w1');
    expect(entryOf(result)).toMatchObject({ vip: SEED_VIP, port: 80, portName: 'web', protocol: 'TCP' });
    expect(endpointsOf(result)).toEqual([[POD.w1, 8080]]);
  });

  it('one entry per Service port, ordered by port then protocol, each with its own target port', () => {
    const objects = [
      ...seedNodes(),
      service('dns', {
        ports: [
          { name: 'metrics', port: 9153, protocol: 'TCP' },
          { name: 'dns', port: 53, protocol: 'UDP' },
          { name: 'dns-tcp', port: 53, protocol: 'TCP' },
        ],
      }),
      slice('dns-1', {
        service: 'dns',
        ports: [
          { name: 'dns', port: 5353, protocol: 'UDP' },
          { name: 'dns-tcp', port: 5354, protocol: 'TCP' },
          { name: 'metrics', port: 9153, protocol: 'TCP' },
        ],
        endpoints: [ep(POD.w2, 'w2')],
      }),
    ];
    const planned = plannedService(planFor(objects, 'w1'), 'sample/dns');
    expect(planned.entries.map((e) => [e.port, e.protocol, e.portName, e.tiers[0]?.endpoints[0]?.port])).toEqual([
      [53, 'TCP', 'dns-tcp', 5354],
      [53, 'UDP', 'dns', 5353],
      [9153, 'TCP', 'metrics', 9153],
    ]);
  });

  it('the unnamed port of a single-port Service matches the unnamed slice port', () => {
    const objects = [
      ...seedNodes(),
      service('helloworld', { ports: [{ port: 80 }] }),
      slice('hw-1', { service: 'helloworld', ports: [{ port: 8080 }], endpoints: [ep(POD.w1, 'w1')] }),
    ];
    const result = planFor(objects, 'w1');
    expect(entryOf(result).portName).toBe('');
    expect(endpointsOf(result)).toEqual([[POD.w1, 8080]]);
  });

  it('slices may disagree on a named port (a rollout changing containerPort): each endpoint keeps its own', () => {
    const objects = [
      ...seedNodes(),
      service('helloworld'),
      slice('hw-old', { service: 'helloworld', ports: [{ name: 'http', port: 5000 }], endpoints: [ep(POD.w1, 'w1')] }),
      slice('hw-new', { service: 'helloworld', ports: [{ name: 'http', port: 5001 }], endpoints: [ep(POD.w2, 'w2')] }),
    ];
    expect(endpointsOf(planFor(objects, 'w1'))).toEqual([
      [POD.w1, 5000],
      [POD.w2, 5001],
    ]);
  });

  it('a Service port that no slice port matches gets no endpoints and a warning naming the Service', () => {
    const objects = [
      ...seedNodes(),
      service('helloworld', { ports: [{ name: 'http', port: 80 }] }),
      slice('hw-1', { service: 'helloworld', ports: [{ name: 'https', port: 8443 }], endpoints: [ep(POD.w1, 'w1')] }),
    ];
    const result = planFor(objects, 'w1');
    expect(tierAddresses(result)).toEqual([[]]);
    expect(result.warnings).toEqual([
      {
        code: 'port-mismatch',
        kind: 'Service',
        name: 'sample/helloworld',
        message: 'port "http" (80/TCP) matches no port of its IPv4 EndpointSlices',
      },
    ]);
  });

  it('no warning for a Service with no endpoints at all (scaled to zero)', () => {
    const objects = [...seedNodes(), service('helloworld'), slice('hw-1', { service: 'helloworld', ports: [], endpoints: [] })];
    const result = planFor(objects, 'w1');
    expect(tierAddresses(result)).toEqual([[]]);
    expect(result.warnings).toEqual([]);
  });

  it('a slice port without a number serves nothing, with a warning naming the slice', () => {
    const objects = [
      ...seedNodes(),
      service('helloworld'),
      slice('hw-1', { service: 'helloworld', ports: [{ name: 'http' }], endpoints: [ep(POD.w1, 'w1')] }),
    ];
    const result = planFor(objects, 'w1');
    expect(tierAddresses(result)).toEqual([[]]);
    expect(result.warnings).toEqual([
      {
        code: 'port-unset',
        kind: 'EndpointSlice',
        name: 'sample/hw-1',
        message: 'port "http" has no port number, so its endpoints cannot serve Service port "http" (5000/TCP)',
      },
    ]);
  });

  it('UDP ports are planned as UDP', () => {
    const objects = [
      ...seedNodes(),
      service('helloworld', { ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] }),
      slice('hw-1', { service: 'helloworld', ports: [{ name: 'dns', port: 53, protocol: 'UDP' }], endpoints: [ep(POD.w1, 'w1')] }),
    ];
    expect(entryOf(planFor(objects, 'w1'))).toMatchObject({ protocol: 'UDP', port: 53 });
  });

  it('SCTP ports are ignored with a warning; the other ports are still planned', () => {
    const objects = [
      ...seedNodes(),
      service('helloworld', {
        ports: [
          { name: 'sig', port: 3868, protocol: 'SCTP' },
          { name: 'http', port: 5000 },
        ],
      }),
      slice('hw-1', { service: 'helloworld', endpoints: [ep(POD.w1, 'w1')] }),
    ];
    const result = planFor(objects, 'w1');
    expect(plannedService(result).entries.map((e) => e.portName)).toEqual(['http']);
    expect(result.warnings).toEqual([
      {
        code: 'sctp-ignored',
        kind: 'Service',
        name: 'sample/helloworld',
        message: 'port "sig" (3868/SCTP) ignored: nearby intercepts TCP and UDP only',
      },
    ]);
  });
});

describe('address families', () => {
  const dualSlices = [
    slice('hw-v4', { service: 'helloworld', endpoints: [ep(POD.w1, 'w1'), ep(POD.w2, 'w2')] }),
    slice('hw-v6', { service: 'helloworld', addressType: 'IPv6', endpoints: [ep(POD6.w1, 'w1'), ep(POD6.w3, 'w3')] }),
  ];

  it('dual-stack: one entry per VIP, each with the endpoints of its own family', () => {
    const result = planFor([...seedNodes(), service('helloworld', { clusterIPs: [SEED_VIP, SEED_VIP6] }), ...dualSlices], 'w1');
    const planned = plannedService(result);
    expect(planned.entries.map((e) => [e.vip, e.family])).toEqual([
      [SEED_VIP, 4],
      [SEED_VIP6, 6],
    ]);
    expect(tierAddresses(result, 'sample/helloworld', 0)).toEqual([[POD.w1, POD.w2]]);
    expect(tierAddresses(result, 'sample/helloworld', 1)).toEqual([[POD6.w1, POD6.w3]]);
  });

  it('IPv6-primary dual-stack keeps the primary family first', () => {
    const result = planFor([...seedNodes(), service('helloworld', { clusterIPs: [SEED_VIP6, SEED_VIP] }), ...dualSlices], 'w1');
    expect(plannedService(result).entries.map((e) => e.family)).toEqual([6, 4]);
  });

  it('a single-stack Service ignores slices of the other family', () => {
    const result = planFor([...seedNodes(), service('helloworld'), ...dualSlices], 'w1');
    expect(plannedService(result).entries).toHaveLength(1);
    expect(tierAddresses(result)).toEqual([[POD.w1, POD.w2]]);
  });

  it('FQDN slices are ignored', () => {
    const objects = [
      ...seedNodes(),
      service('helloworld'),
      slice('hw-fqdn', { service: 'helloworld', addressType: 'FQDN', endpoints: [ep('backend.example.com')] }),
      slice('hw-v4', { service: 'helloworld', endpoints: [ep(POD.w1, 'w1')] }),
    ];
    const result = planFor(objects, 'w1');
    expect(tierAddresses(result)).toEqual([[POD.w1]]);
    expect(result.warnings).toEqual([]);
  });

  it('IPv6 VIPs and endpoints are written in canonical form', () => {
    const objects = [
      ...seedNodes(),
      service('helloworld', { clusterIPs: ['FD00:10:96:0:0:0:0:0100'] }),
      slice('hw-v6', { service: 'helloworld', addressType: 'IPv6', endpoints: [ep('fd00:10:244:0001:0:0:0:000a', 'w1')] }),
    ];
    const result = planFor(objects, 'w1');
    expect(entryOf(result).vip).toBe('fd00:10:96::100');
    expect(tierAddresses(result)).toEqual([['fd00:10:244:1::a']]);
  });
});
