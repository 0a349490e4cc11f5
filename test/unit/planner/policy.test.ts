/** Which policy a Service gets: the first matching rule wins (SEMANTICS.md). */
import { describe, expect, it } from 'vitest';
import type { PlanOptions, Warning } from '../../../pkg/planner/index.js';
import { namespace, planFor, plannedService, seedEndpoints, seedNodes, service, slice, type ServiceSpec } from './fixtures.js';

const ANNOTATION = 'networking.istio.io/traffic-distribution';
const CLOSE = ['network', 'region', 'zone', 'subzone'];
const SAME_ZONE = ['network', 'region', 'zone'];
const SAME_NODE = ['network', 'region', 'zone', 'subzone', 'node'];

interface Row {
  name: string;
  spec: ServiceSpec;
  namespaceAnnotations?: Record<string, string>;
  options?: Partial<PlanOptions>;
  mode: 'RANDOM' | 'FAILOVER' | 'STRICT';
  scopes: string[];
  reason: string;
  warnings?: Warning[];
}

const svcWarning = (message: string): Warning => ({ code: 'unknown-policy', kind: 'Service', name: 'sample/helloworld', message });
const nsWarning = (message: string): Warning => ({ code: 'unknown-policy', kind: 'Namespace', name: 'sample', message });

const rows: Row[] = [
  {
    name: 'internalTrafficPolicy Local beats trafficDistribution',
    spec: { internalTrafficPolicy: 'Local', trafficDistribution: 'PreferSameNode' },
    mode: 'STRICT',
    scopes: ['node'],
    reason: 'spec.internalTrafficPolicy=Local: STRICT to endpoints on this node',
  },
  {
    name: 'internalTrafficPolicy Local beats the annotations',
    spec: { internalTrafficPolicy: 'Local', annotations: { [ANNOTATION]: 'PreferClose' } },
    namespaceAnnotations: { [ANNOTATION]: 'PreferClose' },
    mode: 'STRICT',
    scopes: ['node'],
    reason: 'spec.internalTrafficPolicy=Local: STRICT to endpoints on this node',
  },
  {
    name: 'internalTrafficPolicy Cluster leaves trafficDistribution in charge',
    spec: { internalTrafficPolicy: 'Cluster', trafficDistribution: 'PreferClose' },
    mode: 'FAILOVER',
    scopes: CLOSE,
    reason: 'spec.trafficDistribution=PreferClose: FAILOVER over network, region, zone, subzone',
  },
  {
    name: 'PreferSameZone',
    spec: { trafficDistribution: 'PreferSameZone' },
    mode: 'FAILOVER',
    scopes: SAME_ZONE,
    reason: 'spec.trafficDistribution=PreferSameZone: FAILOVER over network, region, zone',
  },
  {
    name: 'PreferSameNode',
    spec: { trafficDistribution: 'PreferSameNode' },
    mode: 'FAILOVER',
    scopes: SAME_NODE,
    reason: 'spec.trafficDistribution=PreferSameNode: FAILOVER over network, region, zone, subzone, node',
  },
  {
    name: 'PreferClose read as PreferSameZone by the agent flag',
    spec: { trafficDistribution: 'PreferClose' },
    options: { preferCloseMeaning: 'zone' },
    mode: 'FAILOVER',
    scopes: SAME_ZONE,
    reason: 'spec.trafficDistribution=PreferClose (read as PreferSameZone: preferCloseMeaning=zone): FAILOVER over network, region, zone',
  },
  {
    name: 'the agent flag applies to the annotation too',
    spec: { annotations: { [ANNOTATION]: 'preferclose' } },
    options: { preferCloseMeaning: 'zone' },
    mode: 'FAILOVER',
    scopes: SAME_ZONE,
    reason: `Service annotation ${ANNOTATION}=preferclose (read as PreferSameZone: preferCloseMeaning=zone): FAILOVER over network, region, zone`,
  },
  {
    name: 'the flag does not touch PreferSameNode',
    spec: { trafficDistribution: 'PreferSameNode' },
    options: { preferCloseMeaning: 'zone' },
    mode: 'FAILOVER',
    scopes: SAME_NODE,
    reason: 'spec.trafficDistribution=PreferSameNode: FAILOVER over network, region, zone, subzone, node',
  },
  {
    name: 'the spec field beats the Service annotation',
    spec: { trafficDistribution: 'PreferSameZone', annotations: { [ANNOTATION]: 'PreferSameNode' } },
    mode: 'FAILOVER',
    scopes: SAME_ZONE,
    reason: 'spec.trafficDistribution=PreferSameZone: FAILOVER over network, region, zone',
  },
  {
    name: 'the Service annotation beats the Namespace annotation',
    spec: { annotations: { [ANNOTATION]: 'PreferSameNode' } },
    namespaceAnnotations: { [ANNOTATION]: 'PreferSameZone' },
    mode: 'FAILOVER',
    scopes: SAME_NODE,
    reason: `Service annotation ${ANNOTATION}=PreferSameNode: FAILOVER over network, region, zone, subzone, node`,
  },
  {
    name: 'the Namespace annotation applies when the Service says nothing',
    spec: {},
    namespaceAnnotations: { [ANNOTATION]: 'PreferClose' },
    mode: 'FAILOVER',
    scopes: CLOSE,
    reason: `Namespace sample annotation ${ANNOTATION}=PreferClose: FAILOVER over network, region, zone, subzone`,
  },
  {
    name: 'annotation values ignore case and surrounding blanks',
    spec: { annotations: { [ANNOTATION]: ' PREFERSAMENODE ' } },
    mode: 'FAILOVER',
    scopes: SAME_NODE,
    reason: `Service annotation ${ANNOTATION}=PREFERSAMENODE: FAILOVER over network, region, zone, subzone, node`,
  },
  {
    name: 'an unknown spec value is ignored with a warning, and the annotation still counts',
    spec: { trafficDistribution: 'PreferNearby', annotations: { [ANNOTATION]: 'PreferSameZone' } },
    mode: 'FAILOVER',
    scopes: SAME_ZONE,
    reason: `Service annotation ${ANNOTATION}=PreferSameZone: FAILOVER over network, region, zone`,
    warnings: [svcWarning('unknown spec.trafficDistribution "PreferNearby", ignored')],
  },
  {
    name: 'the spec field is an API enum and keeps its case',
    spec: { trafficDistribution: 'preferclose' },
    mode: 'RANDOM',
    scopes: [],
    reason: 'no locality policy: RANDOM over every eligible endpoint',
    warnings: [svcWarning('unknown spec.trafficDistribution "preferclose", ignored')],
  },
  {
    name: 'an unknown Service annotation is ignored with a warning, and the Namespace one still counts',
    spec: { annotations: { [ANNOTATION]: 'Nearest' } },
    namespaceAnnotations: { [ANNOTATION]: 'PreferClose' },
    mode: 'FAILOVER',
    scopes: CLOSE,
    reason: `Namespace sample annotation ${ANNOTATION}=PreferClose: FAILOVER over network, region, zone, subzone`,
    warnings: [svcWarning(`unknown ${ANNOTATION} annotation "Nearest", ignored`)],
  },
  {
    name: 'an unknown Namespace annotation is ignored with a warning naming the Namespace',
    spec: {},
    namespaceAnnotations: { [ANNOTATION]: 'Everywhere' },
    mode: 'RANDOM',
    scopes: [],
    reason: 'no locality policy: RANDOM over every eligible endpoint',
    warnings: [nsWarning(`unknown ${ANNOTATION} annotation "Everywhere", ignored`)],
  },
  {
    name: 'an unknown internalTrafficPolicy is read as Cluster, with a warning',
    spec: { internalTrafficPolicy: 'Nearby', trafficDistribution: 'PreferClose' },
    mode: 'FAILOVER',
    scopes: CLOSE,
    reason: 'spec.trafficDistribution=PreferClose: FAILOVER over network, region, zone, subzone',
    warnings: [svcWarning('unknown spec.internalTrafficPolicy "Nearby", read as Cluster')],
  },
  {
    name: 'an empty annotation counts as absent',
    spec: { annotations: { [ANNOTATION]: '' } },
    mode: 'RANDOM',
    scopes: [],
    reason: 'no locality policy: RANDOM over every eligible endpoint',
  },
  {
    name: 'nothing set: RANDOM',
    spec: {},
    mode: 'RANDOM',
    scopes: [],
    reason: 'no locality policy: RANDOM over every eligible endpoint',
  },
];

describe('policy precedence', () => {
  it.each(rows)('$name', (row) => {
    const objects = [
      ...seedNodes(),
      namespace('sample', row.namespaceAnnotations ?? {}),
      service('helloworld', row.spec),
      slice('hw-1', { service: 'helloworld', endpoints: seedEndpoints() }),
    ];
    const result = planFor(objects, 'w1', row.options);
    const planned = plannedService(result);
    expect({ mode: planned.mode, scopes: planned.scopes, reason: planned.reason }).toEqual({
      mode: row.mode,
      scopes: row.scopes,
      reason: row.reason,
    });
    expect(result.warnings).toEqual(row.warnings ?? []);
  });

  it("another Namespace's annotation does not apply", () => {
    const objects = [...seedNodes(), namespace('sample'), namespace('other', { [ANNOTATION]: 'PreferClose' }), service('helloworld')];
    expect(plannedService(planFor(objects, 'w1')).mode).toBe('RANDOM');
  });

  it('a Namespace missing from the snapshot is no error', () => {
    const result = planFor([...seedNodes(), service('helloworld')], 'w1');
    expect(plannedService(result).mode).toBe('RANDOM');
    expect(result.warnings).toEqual([]);
  });
});
