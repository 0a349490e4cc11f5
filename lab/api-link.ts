/*
 * The plumbing behind lab/api-address.ts: a veth pair from the host's namespace, where the API
 * server runs, into the lab's bridge namespace, its bridge end on br0 like a pod's. The host end
 * holds the lab's API address as a /32, so the pods (and any namespace on the bridge) reach it
 * on-link with one /32 route via their eth0 (apiServerRouteCommand), and host-side clients reach
 * it as a local address.
 *
 * What keeps "no route out" true:
 * - pods get only that /32, on-link: still no default route, no gateway;
 * - the host end answers ARP only for its own address (arp_ignore=1), so with several clusters on
 *   one joined bridge each cluster's pods reach their own API server's veth, not another lab's;
 * - replies leave by a routing table of their own, chosen by source address: the lab's pod range
 *   on this veth and `unreachable` for anything else, so nothing sent from the address can be routed
 *   off the machine, and the host's main table gets no route into the lab;
 * - no IPv6 on the host end, so it takes no part in the bridge's IPv6.
 */
import { writeFileSync } from 'node:fs';
import {
  API_BRIDGE_DEVICE,
  API_RULE_PRIORITY,
  apiAddressIndex,
  apiHostDevice,
  apiRoutingTable,
  apiServerRouteCommand,
  chooseApiAddress,
} from './api-address.js';
import { run } from './exec.js';
import { LabError, messageOf } from './errors.js';
import { BRIDGE_DEVICE } from './pod-network.js';

interface IpAddress {
  readonly ifname?: string;
  readonly addr_info?: ReadonlyArray<{ readonly family?: string; readonly local?: string }>;
}

interface IpRule {
  readonly priority?: number;
  readonly src?: string;
  readonly dst?: string;
  readonly dstlen?: number;
  readonly table?: string;
}

async function hostAddresses(ip: string, device?: string): Promise<string[]> {
  const args = ['-j', 'addr', 'show', ...(device ? ['dev', device] : [])];
  const links = JSON.parse((await run(ip, args)).stdout) as IpAddress[];
  return links.flatMap((l) => (l.addr_info ?? []).filter((a) => a.family === 'inet' && a.local).map((a) => a.local!));
}

async function deviceExists(ip: string, device: string): Promise<boolean> {
  return run(ip, ['link', 'show', 'dev', device]).then(
    () => true,
    () => false,
  );
}

/** Removes the source rules and the routing table of the address with this index, whoever left them. */
async function removeRouting(ip: string, index: number, address: string): Promise<void> {
  const table = String(apiRoutingTable(index));
  const rules = JSON.parse((await run(ip, ['-j', 'rule', 'show'])).stdout) as IpRule[];
  const ours = rules.filter((r) => r.priority === API_RULE_PRIORITY && r.table === table);
  // One `ip rule del` removes one rule; a crashed run may have left the same rule twice.
  for (const rule of ours) {
    if (rule.src === address) await run(ip, ['rule', 'del', 'priority', String(rule.priority), 'from', `${address}/32`, 'table', table]);
    else if (rule.dst)
      await run(ip, ['rule', 'del', 'priority', String(rule.priority), 'to', `${rule.dst}/${rule.dstlen ?? 32}`, 'table', table]);
  }
  // An empty table is not an error worth stopping for: it is what is wanted.
  await run(ip, ['route', 'flush', 'table', table]).catch(() => undefined);
}

function hostSysctl(device: string, path: string, value: string): void {
  try {
    writeFileSync(`/proc/sys/net/${path.replace('DEV', device)}`, value);
  } catch (error) {
    // No IPv6 in the kernel means no IPv6 to keep off the veth.
    if (!path.startsWith('ipv6/')) throw error;
  }
}

/**
 * Creates the lab's API link and returns the address it publishes, the first free one of
 * API_ADDRESS_RANGE. `podRange` is the lab's pod /16 (its pods, its bridge and anything else on
 * it): the only destination replies from the address may take.
 */
export async function publishApiAddress(ip: string, lab: string, bridgeNetns: string, podRange: string): Promise<string> {
  const device = apiHostDevice(lab);
  if (await deviceExists(ip, device)) await removeApiLink(ip, lab);
  const { index, address } = chooseApiAddress(await hostAddresses(ip));
  await removeRouting(ip, index, address);
  const table = String(apiRoutingTable(index));
  await run(ip, ['link', 'add', device, 'type', 'veth', 'peer', 'name', API_BRIDGE_DEVICE, 'netns', bridgeNetns]);
  try {
    hostSysctl(device, 'ipv6/conf/DEV/disable_ipv6', '1');
    hostSysctl(device, 'ipv4/conf/DEV/arp_ignore', '1');
    hostSysctl(device, 'ipv4/conf/DEV/arp_announce', '2');
    await run(ip, ['-batch', '-'], {
      input: [
        `addr add ${address}/32 dev ${device}`,
        `link set ${device} up`,
        `route add ${podRange} dev ${device} src ${address} table ${table}`,
        `route add unreachable default table ${table}`,
        `rule add priority ${API_RULE_PRIORITY} from ${address}/32 table ${table}`,
        '',
      ].join('\n'),
    });
    await run(ip, ['-n', bridgeNetns, 'link', 'set', API_BRIDGE_DEVICE, 'master', BRIDGE_DEVICE, 'up']);
  } catch (error) {
    await removeApiLink(ip, lab).catch(() => undefined);
    throw error;
  }
  return address;
}

/**
 * Lets the API server dial the real nodes' kubelets (exec, logs, port-forward), as a control plane
 * reaches its nodes: TCP connections to each node's own address (outside every pod CIDR) at the
 * kubelet's port take the API address's table, so they leave from that address through its veth.
 * One /32 rule per node, nothing more: the host's main table still has no route into the lab, and
 * pods stay unreachable from the host. The rule names the kubelet's port because every lab gives
 * its nodes the same addresses: a rule on the address alone would also catch another lab's API
 * server replying to its own nodes (two real-node labs at once still share those dials).
 */
export async function routeApiServerToNodes(ip: string, lab: string, nodeAddresses: readonly string[], kubeletPort: number): Promise<void> {
  const [address] = await hostAddresses(ip, apiHostDevice(lab));
  const index = address === undefined ? undefined : apiAddressIndex(address);
  if (index === undefined) throw new LabError('system', `the lab's API link ${apiHostDevice(lab)} holds no API address`);
  const table = String(apiRoutingTable(index));
  const rules = nodeAddresses.map(
    (node) => `rule add priority ${API_RULE_PRIORITY} to ${node}/32 ipproto tcp dport ${kubeletPort} table ${table}`,
  );
  if (rules.length > 0) await run(ip, ['-batch', '-'], { input: [...rules, ''].join('\n') });
}

/**
 * Gives a namespace on the lab's bridge (a pod's, a node's) its way to the lab's API server: a
 * /32 on-link through `device`, its veth into the bridge. Its address must be in the lab's pod
 * range, the only destination the API server's replies may take.
 */
export async function addApiServerRoute(ip: string, netns: string, address: string, device = 'eth0'): Promise<void> {
  await run(ip, ['-n', netns, ...apiServerRouteCommand(address, device).split(' ')]);
}

/** Removes the lab's API link (veth, rule, table); one line per thing removed, none if there was no link. */
export async function removeApiLink(ip: string, lab: string): Promise<string[]> {
  const device = apiHostDevice(lab);
  if (!(await deviceExists(ip, device))) return [];
  const removed: string[] = [];
  for (const address of await hostAddresses(ip, device)) {
    const index = apiAddressIndex(address);
    if (index === undefined) continue;
    await removeRouting(ip, index, address);
    removed.push(`routing of ${address} (table ${apiRoutingTable(index)})`);
  }
  await run(ip, ['link', 'del', device]);
  removed.push(`link ${device}`);
  return removed;
}

/** What of the lab's API link still exists, one line each. */
export async function apiLinkRemains(ip: string, lab: string): Promise<string[]> {
  const device = apiHostDevice(lab);
  try {
    return (await deviceExists(ip, device)) ? [`link ${device} (the lab's API server address)`] : [];
  } catch (error) {
    return [`link ${device}: ${messageOf(error)}`];
  }
}
