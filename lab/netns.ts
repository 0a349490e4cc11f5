/*
 * Network namespaces through iproute2, for the lab's pods and for the kernel lab. Neither ever
 * adds a route through a gateway: every namespace has only connected routes (the pod CIDR on eth0,
 * with several clusters their pod ranges on eth0 too, addresses on lo, or nothing), so an address the BPF program does not rewrite (a Service VIP) fails with
 * ENETUNREACH inside the namespace and never leaves it.
 */
import { isIP } from 'node:net';
import { run } from './exec.js';
import { LabError } from './errors.js';

/** Where `ip netns add` mounts a namespace; nsenter --net takes this path. */
export function netnsPath(name: string): string {
  return `/run/netns/${name}`;
}

export async function listNetns(ip: string): Promise<string[]> {
  const { stdout } = await run(ip, ['netns', 'list']);
  // Lines look like "name" or "name (id: 3)".
  return stdout
    .split('\n')
    .map((line) => line.trim().split(' ')[0] ?? '')
    .filter((name) => name !== '');
}

export async function createNetns(ip: string, name: string): Promise<void> {
  await run(ip, ['netns', 'add', name]);
}

export async function deleteNetns(ip: string, name: string): Promise<void> {
  await run(ip, ['netns', 'delete', name]);
}

/** PIDs of processes whose network namespace is this one. */
export async function netnsPids(ip: string, name: string): Promise<number[]> {
  const { stdout } = await run(ip, ['netns', 'pids', name]);
  return stdout
    .split('\n')
    .filter((line) => /^\d+$/.test(line.trim()))
    .map(Number);
}

/** Runs several `ip` commands in one namespace with one process (`ip -n NS -batch -`). */
export async function ipBatch(ip: string, netns: string, commands: readonly string[]): Promise<void> {
  await run(ip, ['-n', netns, '-batch', '-'], { input: `${commands.join('\n')}\n` });
}

/** IPv4 as /32 and IPv6 as /128 on lo; `nodad` so IPv6 is usable at once, not after DAD. */
export async function addLoopbackAddress(ip: string, netns: string, address: string): Promise<void> {
  const family = isIP(address);
  if (family === 4) await run(ip, ['-n', netns, 'addr', 'add', `${address}/32`, 'dev', 'lo']);
  else if (family === 6) await run(ip, ['-n', netns, 'addr', 'add', `${address}/128`, 'dev', 'lo', 'nodad']);
  else throw new LabError('usage', `not an IP address: ${JSON.stringify(address)}`);
}

interface IpRoute {
  readonly dst?: string;
  readonly dev?: string;
}

/** Every route of the namespace, IPv4 and IPv6, in every table. */
async function routes(ip: string, netns: string): Promise<IpRoute[]> {
  const v4 = JSON.parse((await run(ip, ['-j', '-n', netns, 'route', 'show', 'table', 'all'])).stdout) as IpRoute[];
  const v6 = JSON.parse((await run(ip, ['-j', '-n', netns, '-6', 'route', 'show', 'table', 'all'])).stdout) as IpRoute[];
  return [...v4, ...v6];
}

/**
 * The safety rule made checkable: no default route and no route through anything but the
 * allowed devices. Throws describing the offending routes.
 */
export async function assertNoRouteOut(ip: string, netns: string): Promise<void> {
  const defaults = (await routes(ip, netns)).filter((r) => r.dst === 'default');
  if (defaults.length > 0) {
    throw new LabError('system', `netns ${netns} has a default route, which the lab never adds: ${JSON.stringify(defaults)}`);
  }
}

/**
 * The kernel lab's stricter rule: no interface but lo and no route that could lead anywhere
 * else. Throws describing what is wrong.
 */
export async function assertOnlyLoopback(ip: string, netns: string): Promise<void> {
  const links = JSON.parse((await run(ip, ['-j', '-n', netns, 'link', 'show'])).stdout) as Array<{ readonly ifname?: string }>;
  const foreignLinks = links.map((l) => l.ifname).filter((n) => n !== 'lo');
  const leading = (await routes(ip, netns)).filter((r) => r.dst === 'default' || (r.dev !== undefined && r.dev !== 'lo'));
  if (foreignLinks.length > 0 || leading.length > 0) {
    throw new LabError(
      'system',
      `netns ${netns} is not isolated: links ${JSON.stringify(foreignLinks)}, routes ${JSON.stringify(leading)}`,
    );
  }
}
