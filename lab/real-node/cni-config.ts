/*
 * One node's CNI network: the bridge plugin makes cni0 in the node's netns with the node's pod
 * CIDR from host-local (leases in this node's own dir, not the host-wide /var/lib/cni). Pods get
 * one route, the lab's pod range through cni0's address, and no default route, as the process
 * lab's pods have only their on-link range: nothing leaves the lab. No masquerade: pod addresses
 * are routed between nodes as they are (node-network.ts).
 */
export interface CniSettings {
  readonly podCidr: string;
  /** The lab's whole pod range (all nodes' CIDRs). */
  readonly podRange: string;
  readonly ipamDir: string;
  /** The lab's API server address (lab/api-link.ts): routed through the node, as the Service `kubernetes` is published. */
  readonly apiServer?: string;
}

export const CNI_NETWORK_NAME = 'nearby-lab';
export const CNI_BRIDGE = 'cni0';

/** The first address of a /24, "a.b.c.0/24" -> "a.b.c.1": the bridge's, the pods' gateway. */
export function gatewayOf(podCidr: string): string {
  const [network = ''] = podCidr.split('/');
  const octets = network.split('.');
  return [...octets.slice(0, 3), String(Number(octets[3]) + 1)].join('.');
}

export function cniConfigList({ podCidr, podRange, ipamDir, apiServer }: CniSettings): string {
  const list = {
    cniVersion: '1.0.0',
    name: CNI_NETWORK_NAME,
    plugins: [
      {
        type: 'bridge',
        bridge: CNI_BRIDGE,
        isGateway: true,
        isDefaultGateway: false,
        ipMasq: false,
        hairpinMode: true,
        ipam: {
          type: 'host-local',
          dataDir: ipamDir,
          ranges: [[{ subnet: podCidr, gateway: gatewayOf(podCidr) }]],
          routes: [{ dst: podRange }, ...(apiServer ? [{ dst: `${apiServer}/32` }] : [])],
        },
      },
    ],
  };
  return `${JSON.stringify(list, null, 2)}\n`;
}
