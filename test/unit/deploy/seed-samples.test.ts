// The re-indented copies of seed 003's manifests and seed 001's DestinationRule parse, as the
// documents the seeds describe (the indentation was the only thing changed).
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readDocuments } from '../../../lab/documents.js';

const SAMPLES = join(import.meta.dirname, '../../../deploy/samples');
const yamlFiles = (dir: string): string[] => readdirSync(join(SAMPLES, dir)).filter((f) => f.endsWith('.yaml'));
const objects = (file: string): Array<Record<string, unknown>> => readDocuments([join(SAMPLES, file)]).map((d) => d.object);
const spec = (o: Record<string, unknown> | undefined): Record<string, unknown> => o?.['spec'] as Record<string, unknown>;
const kinds = (file: string): string[] =>
  objects(file).map((o) => `${String(o['kind'])}/${String((o['metadata'] as { name?: string } | undefined)?.name)}`);

describe('deploy/samples/seed-003', () => {
  it.each(yamlFiles('seed-003'))('%s parses', (file) => {
    expect(objects(`seed-003/${file}`).length).toBeGreaterThan(0);
  });

  it('holds the documents the seed applies', () => {
    expect(kinds('seed-003/namespace.yaml')).toEqual(['Namespace/sample']);
    expect(kinds('seed-003/sleep.yaml')).toEqual(['ServiceAccount/sleep', 'Service/sleep', 'Deployment/sleep']);
    expect(kinds('seed-003/helloworld.yaml')).toEqual(['Service/helloworld', 'Deployment/helloworld-az01', 'Deployment/helloworld-az02']);
    const [cluster] = objects('seed-003/kind-cluster1.yaml');
    expect(cluster).toMatchObject({
      kind: 'Cluster',
      networking: { apiServerAddress: '172.26.128.224', podSubnet: '10.10.0.0/16', serviceSubnet: '10.11.0.0/16' },
    });
    expect((cluster!['nodes'] as unknown[]).length).toBe(3);
  });

  it('keeps the two DestinationRules as the seed writes them', () => {
    const [failover] = objects('seed-003/destination-rule-failover.yaml');
    expect(failover).toMatchObject({ apiVersion: 'networking.istio.io/v1beta1', metadata: { name: 'helloworld', namespace: 'sample' } });
    expect(spec(failover)['trafficPolicy']).toEqual({
      connectionPool: { http: { maxRequestsPerConnection: 1 } },
      loadBalancer: { localityLbSetting: { enabled: true, failover: [{ from: 'az01', to: 'az02' }] }, simple: 'ROUND_ROBIN' },
      outlierDetection: { baseEjectionTime: '1m', consecutive5xxErrors: 1, interval: '1s' },
    });
    const [distribute] = objects('seed-003/destination-rule-distribute.yaml');
    expect(distribute!['metadata']).toEqual({ name: 'helloworld' });
    expect(spec(distribute)['trafficPolicy']).toEqual({
      connectionPool: { http: { maxRequestsPerConnection: 1 } },
      loadBalancer: {
        localityLbSetting: {
          enabled: true,
          distribute: [
            { from: 'sg/az01/*', to: { 'sg/az01/*': 100 } },
            { from: 'sg/az02/*', to: { 'sg/az02/*': 100 } },
          ],
        },
      },
      outlierDetection: { consecutive5xxErrors: 100, interval: '1s', baseEjectionTime: '1m' },
    });
  });
});

describe('deploy/samples/seed-001', () => {
  it('holds the subsets and ROUND_ROBIN DestinationRule', () => {
    const [rule] = objects('seed-001/destination-rule-subsets.yaml');
    expect(rule).toMatchObject({ apiVersion: 'networking.istio.io/v1alpha3', kind: 'DestinationRule' });
    expect(spec(rule)).toEqual({
      host: 'my-service.example.com',
      trafficPolicy: { loadBalancer: { simple: 'ROUND_ROBIN' } },
      subsets: [
        { name: 'v1', labels: { version: 'v1' } },
        { name: 'v2', labels: { version: 'v2' } },
      ],
    });
  });
});

describe('deploy/samples/seed-004', () => {
  const LOCALITIES = {
    'region1.zone1': { zone: 'zone1', controlPlane: true },
    'region1.zone2': { zone: 'zone2', controlPlane: false },
    'region2.zone3': { zone: 'zone3', controlPlane: true },
    'region3.zone4': { zone: 'zone4', controlPlane: false },
  } as const;
  const podSpec = (o: Record<string, unknown> | undefined): Record<string, unknown> =>
    (spec(o)['template'] as { spec: Record<string, unknown> }).spec;
  const TOLERATE_CONTROL_PLANE = [{ key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' }];

  it.each(yamlFiles('seed-004'))('%s parses', (file) => {
    expect(objects(`seed-004/${file}`).length).toBeGreaterThan(0);
  });

  it("holds the seed's two kind clusters, named as `kind create cluster --name` names them", () => {
    const roles = (file: string): unknown[] => (objects(file)[0]!['nodes'] as Array<{ role: string }>).map((n) => n.role);
    expect(objects('seed-004/kind-cluster1.yaml')[0]).toMatchObject({ kind: 'Cluster', name: 'cluster1' });
    expect(roles('seed-004/kind-cluster1.yaml')).toEqual(['control-plane', 'worker']);
    expect(objects('seed-004/kind-cluster2.yaml')[0]).toMatchObject({ kind: 'Cluster', name: 'cluster2' });
    expect(roles('seed-004/kind-cluster2.yaml')).toEqual(['control-plane', 'worker', 'worker']);
  });

  it.each(Object.entries(LOCALITIES))(
    'helloworld %s: the generated Service and Deployment, placed in its zone (the one change to the seed)',
    (version, where) => {
      const file = `seed-004/helloworld-${version}.yaml`;
      expect(kinds(file)).toEqual(['Service/helloworld', `Deployment/helloworld-${version}`]);
      const deployment = objects(file)[1];
      const pod = podSpec(deployment);
      expect(pod['nodeSelector']).toEqual({ 'topology.kubernetes.io/zone': where.zone });
      expect(pod['tolerations']).toEqual(where.controlPlane ? TOLERATE_CONTROL_PLANE : undefined);
      expect((pod['containers'] as Array<{ env: unknown }>)[0]!.env).toEqual([{ name: 'SERVICE_VERSION', value: version }]);
    },
  );

  it('runs sleep in region1/zone1, on the tainted control plane of cluster1', () => {
    expect(kinds('seed-004/sleep.yaml')).toEqual(['ServiceAccount/sleep', 'Service/sleep', 'Deployment/sleep']);
    const pod = podSpec(objects('seed-004/sleep.yaml')[2]);
    expect(pod['nodeSelector']).toEqual({ 'topology.kubernetes.io/zone': 'zone1' });
    expect(pod['tolerations']).toEqual(TOLERATE_CONTROL_PLANE);
  });

  it('keeps the DestinationRule verbatim: 70/20/10 from region1/zone1', () => {
    const [rule] = objects('seed-004/destination-rule.yaml');
    expect(rule).toMatchObject({ apiVersion: 'networking.istio.io/v1beta1', kind: 'DestinationRule', metadata: { name: 'helloworld' } });
    expect(spec(rule)).toEqual({
      host: 'helloworld.sample.svc.cluster.local',
      trafficPolicy: {
        loadBalancer: {
          localityLbSetting: {
            enabled: true,
            distribute: [{ from: 'region1/zone1/*', to: { 'region1/zone1/*': 70, 'region1/zone2/*': 20, 'region3/zone4/*': 10 } }],
          },
        },
        outlierDetection: { consecutive5xxErrors: 100, interval: '1s', baseEjectionTime: '1m' },
      },
    });
  });
});
