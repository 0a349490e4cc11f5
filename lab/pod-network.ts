/*
 * The lab's network, like kind's docker network: one bridge in its own namespace, and per pod a
 * namespace joined to the bridge by a veth pair. Addresses are on-link in one /16 of the pod subnet (ipam.ts) and no
 * namespace gets any other route, so nothing can leave the lab.
 */
import { assertNoRouteOut, createNetns, deleteNetns, ipBatch } from './netns.js';
import { run } from './exec.js';
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
}

export async function createPodNetwork(ip: string, bridgeNetns: string, link: PodLink): Promise<void> {
  await createNetns(ip, link.netns);
  await ipBatch(ip, link.netns, [
    'link set lo up',
    `link add eth0 type veth peer name ${link.hostDevice} netns ${bridgeNetns}`,
    `addr add ${link.ip}/${POD_PREFIX_LENGTH} dev eth0`,
    'link set eth0 up',
  ]);
  await run(ip, ['-n', bridgeNetns, 'link', 'set', link.hostDevice, 'master', BRIDGE_DEVICE, 'up']);
}

/** Cuts the pod off the bridge first (even if some process still holds its namespace), then deletes it. */
export async function deletePodNetwork(ip: string, bridgeNetns: string, link: PodLink): Promise<void> {
  await run(ip, ['-n', bridgeNetns, 'link', 'del', link.hostDevice]).catch(() => undefined);
  await deleteNetns(ip, link.netns);
}
