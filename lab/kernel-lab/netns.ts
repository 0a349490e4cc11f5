/**
 * Network namespaces for labs: only `lo`, up, and no route out. Pod addresses are added to `lo`,
 * so traffic between a client and a pod never leaves the namespace, and a connect to any
 * address not assigned here fails locally with ENETUNREACH.
 */
import { isIP } from 'node:net';
import { run } from './exec.js';
import { kernelEnv } from './prereqs.js';

export function netnsPath(name: string): string {
  return `/run/netns/${name}`;
}

function ip(args: string[]): Promise<{ stdout: string }> {
  return run(kernelEnv().ip, args);
}

export async function listNetns(): Promise<string[]> {
  const { stdout } = await ip(['netns', 'list']);
  // Lines look like "name" or "name (id: 3)".
  return stdout
    .split('\n')
    .map((line) => line.trim().split(' ')[0] ?? '')
    .filter((name) => name !== '');
}

export async function createNetns(name: string): Promise<void> {
  await ip(['netns', 'add', name]);
  await ip(['-n', name, 'link', 'set', 'lo', 'up']);
  await assertIsolated(name);
}

export async function deleteNetns(name: string): Promise<void> {
  await ip(['netns', 'delete', name]);
}

/** PIDs of processes whose network namespace is this one. */
export async function netnsPids(name: string): Promise<number[]> {
  const { stdout } = await ip(['netns', 'pids', name]);
  return stdout
    .split('\n')
    .filter((line) => /^\d+$/.test(line.trim()))
    .map(Number);
}

/** IPv4 as /32 and IPv6 as /128 on lo; `nodad` so IPv6 is usable at once, not after DAD. */
export async function addAddress(netns: string, address: string): Promise<void> {
  const family = isIP(address);
  if (family === 4) await ip(['-n', netns, 'addr', 'add', `${address}/32`, 'dev', 'lo']);
  else if (family === 6) await ip(['-n', netns, 'addr', 'add', `${address}/128`, 'dev', 'lo', 'nodad']);
  else throw new Error(`not an IP address: ${JSON.stringify(address)}`);
}

interface IpLink {
  ifname?: string;
}

interface IpRoute {
  dst?: string;
  dev?: string;
  type?: string;
  table?: string;
}

/**
 * The safety rule made checkable: the namespace has no interface but lo and no route that could
 * lead anywhere else. Throws describing what is wrong.
 */
export async function assertIsolated(netns: string): Promise<void> {
  const links = JSON.parse((await ip(['-j', '-n', netns, 'link', 'show'])).stdout) as IpLink[];
  const foreignLinks = links.map((l) => l.ifname).filter((n) => n !== 'lo');
  const routes = JSON.parse((await ip(['-j', '-n', netns, 'route', 'show', 'table', 'all'])).stdout) as IpRoute[];
  const v6routes = JSON.parse((await ip(['-j', '-n', netns, '-6', 'route', 'show', 'table', 'all'])).stdout) as IpRoute[];
  const leading = [...routes, ...v6routes].filter(
    (r) => r.dst === 'default' || (r.dev !== undefined && r.dev !== 'lo'),
  );
  if (foreignLinks.length > 0 || leading.length > 0) {
    throw new Error(
      `netns ${netns} is not isolated: links ${JSON.stringify(foreignLinks)}, routes ${JSON.stringify(leading)}`,
    );
  }
}
