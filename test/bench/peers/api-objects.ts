/*
 * The objects a benchmark writes to the API server for its peers: a Node per peer (kube-proxy
 * runs as one), and selector-less Services whose EndpointSlices the benchmark writes itself, so
 * no controller races it and the endpoints are exactly the addresses its servers listen on.
 */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
/** Not the EndpointSlice controller's value, so that controller leaves these slices alone. */
const MANAGED_BY = 'nearby-bench';

export interface ServicePorts {
  /** The Service port, the one connected to on the VIP. */
  readonly port: number;
  /** Where the endpoints listen. */
  readonly targetPort: number;
}

export function benchNode(name: string, address: string): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name } },
    status: { addresses: [{ type: 'InternalIP', address }] },
  };
}

export function selectorlessService(namespace: string, name: string, ports: ServicePorts): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace },
    spec: { type: 'ClusterIP', ports: [{ name: 'tcp', port: ports.port, targetPort: ports.targetPort, protocol: 'TCP' }] },
  };
}

export function endpointSlice(
  namespace: string,
  service: string,
  addresses: readonly string[],
  ports: ServicePorts,
  nodeName?: string,
): Record<string, unknown> {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: `${service}-bench`,
      namespace,
      labels: { [SERVICE_NAME_LABEL]: service, 'endpointslice.kubernetes.io/managed-by': MANAGED_BY },
    },
    addressType: 'IPv4',
    ports: [{ name: 'tcp', port: ports.targetPort, protocol: 'TCP' }],
    endpoints: addresses.map((address) => ({
      addresses: [address],
      conditions: { ready: true, serving: true, terminating: false },
      ...(nodeName ? { nodeName } : {}),
    })),
  };
}
