/*
 * The lab's network, like kind's docker network: one bridge in its own namespace, and per pod a
 * namespace joined to the bridge by a veth pair. Addresses are on-link in one /16 of the pod subnet (ipam.ts) and no
 * namespace gets any other route, so nothing can leave the lab. Several clusters (lab-set.ts) share one L2 network: their
 * bridges are joined by veth pairs, and each pod has the other clusters' pod ranges on-link on its eth0 as well, still
 * with no default route. On a lab with a real control plane each pod also has its API server's address on-link (api-link.ts).
 */
import { assertNoRouteOut, createNetns, deleteNetns, ipBatch } from './netns.js';
import { run } from './exec.js';
import { apiServerRouteCommand } from './api-address.js';
import { hashedDeviceName } from './device-names.js';
import { POD_PREFIX_LENGTH } from './ipam.js';

export const BRIDGE_DEVICE = 'br0';

export async function createBridge(ip: string, netns: string, bridgeAddress: string): Promise<void> {
  await createNetns(ip, netns);
  await ipBatch(ip, netns, [
    'link set lo up',
    `link add ${BRIDGE_DEVICE} type bridge`,
    `addr add ${bridgeAddress}/${POD_PREFIX_LENGTH} dev ${BRIDGE_DEVICE}`,
    `link set ${BRIDGE_DEVICE} up`,
  ]);
  await assertNoRouteOut(ip, netns);
}

export interface PodLink {
  readonly netns: string;
  /** The veth end on the bridge; at most 15 characters. */
  readonly hostDevice: string;
  readonly ip: string;
  /** Other clusters' pod ranges on the same flat network, reachable on-link. */
  readonly peerRanges?: readonly string[];
  /** The lab's API server address (lab/api-link.ts), reachable on-link as a /32. */
  readonly apiServer?: string;
}

export async function createPodNetwork(ip: string, bridgeNetns: string, link: PodLink): Promise<void> {
  await createNetns(ip, link.netns);
  await ipBatch(ip, link.netns, [
    'link set lo up',
    `link add eth0 type veth peer name ${link.hostDevice} netns ${bridgeNetns}`,
    `addr add ${link.ip}/${POD_PREFIX_LENGTH} dev eth0`,
    'link set eth0 up',
    ...(link.peerRanges ?? []).map((range) => `route add ${range} dev eth0`),
    ...(link.apiServer ? [apiServerRouteCommand(link.apiServer)] : []),
  ]);
  await run(ip, ['-n', bridgeNetns, 'link', 'set', link.hostDevice, 'master', BRIDGE_DEVICE, 'up']);
}

/** Cuts the pod off the bridge first (even if some process still holds its namespace), then deletes it. */
export async function deletePodNetwork(ip: string, bridgeNetns: string, link: PodLink): Promise<void> {
  await run(ip, ['-n', bridgeNetns, 'link', 'del', link.hostDevice]).catch(() => undefined);
  await deleteNetns(ip, link.netns);
}

/** The veth end, in a bridge namespace, that joins its bridge to `peer`'s: at most 15 characters, so a hash of the peer's name. */
export function bridgeLinkDevice(peer: string): string {
  return hashedDeviceName('nbx', peer);
}

/**
 * Joins two labs' bridges into one L2 segment, as two kind clusters share docker's network; the
 * pair disappears with either bridge namespace, so `lab down` of one side needs no extra step.
 */
export async function linkBridges(ip: string, a: { lab: string; netns: string }, b: { lab: string; netns: string }): Promise<void> {
  const aDevice = bridgeLinkDevice(b.lab);
  const bDevice = bridgeLinkDevice(a.lab);
  await run(ip, ['-n', a.netns, 'link', 'add', aDevice, 'type', 'veth', 'peer', 'name', bDevice, 'netns', b.netns]);
  await run(ip, ['-n', a.netns, 'link', 'set', aDevice, 'master', BRIDGE_DEVICE, 'up']);
  await run(ip, ['-n', b.netns, 'link', 'set', bDevice, 'master', BRIDGE_DEVICE, 'up']);
}
