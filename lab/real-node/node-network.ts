/*
 * A real node's place on the lab network: its own netns joined to the lab bridge by a veth pair,
 * as the process lab's pods are (pod-network.ts), with its own address outside every pod CIDR.
 * Pod CIDRs are routed, not on-link: every node netns and the bridge netns (where the prober
 * connects from) reach node N's CIDR through node N's address. Those are the only routes through
 * a gateway the lab adds, and every gateway is a lab node: still no default route, nothing leaves
 * the lab (assertNoRouteOut checks it).
 */
import { run } from '../exec.js';
import { assertNoRouteOut, ipBatch } from '../netns.js';
import { createPodNetwork, type PodLink } from '../pod-network.js';

export interface NodeLink {
  readonly netns: string;
  readonly address: string;
  readonly podCidr: string;
  /** The veth end on the bridge. */
  readonly hostDevice: string;
  /** The lab's API server address (lab/api-link.ts): the kubelet reaches it on-link. */
  readonly apiServer?: string;
}

/** The veth end on the bridge of node `index`; pod links of the process lab are vp<n>. */
export function nodeHostDevice(index: number): string {
  return `vn${index}`;
}

export async function createNodeNetwork(ip: string, bridgeNetns: string, node: NodeLink): Promise<void> {
  const link: PodLink = {
    netns: node.netns,
    hostDevice: node.hostDevice,
    ip: node.address,
    ...(node.apiServer ? { apiServer: node.apiServer } : {}),
  };
  await createPodNetwork(ip, bridgeNetns, link);
  // The node routes between its pods (cni0) and the lab network (eth0), and answers ARP on eth0
  // for its pods: what sees the lab's /16 on-link (the prober, the API server's veth) reaches them
  // without a route of its own.
  await run('nsenter', [`--net=/run/netns/${node.netns}`, 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=1', 'net.ipv4.conf.eth0.proxy_arp=1']);
}

/** Every other node's pod CIDR through that node, in each node netns and in the bridge netns. */
export async function routePodCidrs(ip: string, bridgeNetns: string, nodes: readonly NodeLink[]): Promise<void> {
  for (const node of nodes) {
    const others = nodes.filter((n) => n !== node).map((n) => `route replace ${n.podCidr} via ${n.address} dev eth0`);
    if (others.length > 0) await ipBatch(ip, node.netns, others);
    await assertNoRouteOut(ip, node.netns);
  }
  await ipBatch(
    ip,
    bridgeNetns,
    nodes.map((n) => `route replace ${n.podCidr} via ${n.address}`),
  );
  await assertNoRouteOut(ip, bridgeNetns);
}
