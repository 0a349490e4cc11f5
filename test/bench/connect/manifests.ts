/*
 * The Services the connect benchmark loads, as the manifests a FileSource reads (JSON Lists, which
 * parse far faster than 10,000 YAML documents): `services` selector-less Services, each with one
 * EndpointSlice of `perService` ready endpoints spread as PreferClose ranks them from the measured
 * node: 2 on it, 3 elsewhere in its zone, the rest in another zone. Service 0 is the one measured;
 * only its endpoint addresses exist (on the lab's lo), the others are never dialled.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const SERVICE_PORT = 80;
export const TARGET_PORT = 8080;
const NAMESPACE = 'bench';

const ipv4 = (n: number): string => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
/** Service s's VIP: 10.96.0.10 onwards. */
export const serviceVip = (s: number): string => ipv4(((10 << 24) | (96 << 16)) + 10 + s);
/** Endpoint i of all the Services: 10.128.0.10 onwards. */
export const podAddress = (i: number): string => ipv4(((10 << 24) | (128 << 16)) + 10 + i);

export interface Layout {
  readonly services: number;
  readonly perService: number;
}

/** The addresses of the measured Service's endpoints; the first is on the measured node. */
export const measuredEndpoints = (layout: Layout): string[] => Array.from({ length: layout.perService }, (_, e) => podAddress(e));

function node(name: string, zone: string, subzone: string): object {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      labels: { 'topology.kubernetes.io/region': 'bench', 'topology.kubernetes.io/zone': zone, 'topology.kubernetes.io/subzone': subzone },
    },
  };
}

/** Writes nodes.json, services.json and endpointslices.json into `dir`; every Service carries `annotations`. */
export function writeManifests(dir: string, layout: Layout, nodeName: string, annotations: Readonly<Record<string, string>> = {}): void {
  const nodeOf = (e: number): string => (e < 2 ? nodeName : e < 5 ? 'bench-near' : 'bench-far');
  const list = (items: object[]): string => JSON.stringify({ apiVersion: 'v1', kind: 'List', items });
  writeFileSync(
    join(dir, 'nodes.json'),
    list([node(nodeName, 'zone-a', 'sub-1'), node('bench-near', 'zone-a', 'sub-2'), node('bench-far', 'zone-b', 'sub-3')]),
  );
  const services: object[] = [];
  const slices: object[] = [];
  for (let s = 0; s < layout.services; s++) {
    const name = `svc-${s}`;
    const vip = serviceVip(s);
    services.push({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name, namespace: NAMESPACE, annotations },
      spec: {
        clusterIP: vip,
        clusterIPs: [vip],
        trafficDistribution: 'PreferClose',
        ports: [{ name: 'http', port: SERVICE_PORT, targetPort: TARGET_PORT, protocol: 'TCP' }],
      },
    });
    slices.push({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: `${name}-a`, namespace: NAMESPACE, labels: { 'kubernetes.io/service-name': name } },
      addressType: 'IPv4',
      ports: [{ name: 'http', port: TARGET_PORT, protocol: 'TCP' }],
      endpoints: Array.from({ length: layout.perService }, (_, e) => ({
        addresses: [podAddress(s * layout.perService + e)],
        conditions: { ready: true },
        nodeName: nodeOf(e),
        targetRef: { kind: 'Pod', namespace: NAMESPACE, name: `${name}-${e}` },
      })),
    });
  }
  writeFileSync(join(dir, 'services.json'), list(services));
  writeFileSync(join(dir, 'endpointslices.json'), list(slices));
}
