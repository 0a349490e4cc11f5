/*
 * Publishes the lab's agents where a cluster's Prometheus finds a DaemonSet's pods: as endpoints of
 * the metrics Service (deploy/metrics-service.yaml). Lab agents are host processes, not Pods, so
 * the EndpointSlice controller never lists them; the lab writes one EndpointSlice per agent itself
 * (one port per slice, and each agent has its own), managed by the lab, with the endpoint's
 * nodeName set. An agent restarted on another port gets its slice rewritten.
 *
 * Loopback addresses are refused in an EndpointSlice, so an agent is published under a stand-in:
 * the first address of its node's pod range, which no pod holds (ipam.ts hands out .2 and up).
 * scrape-config.ts scrapes the port on 127.0.0.1.
 */
export const AGENT_NAMESPACE = 'nearby-system';
export const AGENT_METRICS_SERVICE = 'nearby-agent-metrics';
const MANAGED_BY = 'nearby-lab';

/** x.y.z.1 of a node's pod range x.y.z.0/24. */
export function standInAddress(podCidr: string): string {
  const match = /^(\d+\.\d+\.\d+)\.\d+\/\d+$/.exec(podCidr);
  if (!match) throw new Error(`pod range ${podCidr} is not an IPv4 CIDR`);
  return `${match[1]}.1`;
}

export function agentEndpointSlice(node: string, podCidr: string, port: number): Record<string, unknown> {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: `${AGENT_METRICS_SERVICE}-${node}`,
      namespace: AGENT_NAMESPACE,
      labels: {
        'kubernetes.io/service-name': AGENT_METRICS_SERVICE,
        'endpointslice.kubernetes.io/managed-by': MANAGED_BY,
        'app.kubernetes.io/name': 'nearby',
        'app.kubernetes.io/component': 'agent',
      },
    },
    addressType: 'IPv4',
    endpoints: [{ addresses: [standInAddress(podCidr)], conditions: { ready: true }, nodeName: node }],
    ports: [{ name: 'metrics', port, protocol: 'TCP' }],
  };
}
