/*
 * Network namespaces through iproute2. The lab never adds a route: every namespace has only
 * connected routes (the pod CIDR on eth0, or nothing), so an address the BPF program does not
 * rewrite (a Service VIP) fails with ENETUNREACH inside the namespace and never leaves it.
 */
import { run } from './exec.js';
import { LabError } from './errors.js';

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

interface IpRoute {
  readonly dst?: string;
  readonly dev?: string;
}

/**
 * The safety rule made checkable: no default route and no route through anything but the
 * allowed devices. Throws describing the offending routes.
 */
export async function assertNoRouteOut(ip: string, netns: string): Promise<void> {
  const v4 = JSON.parse((await run(ip, ['-j', '-n', netns, 'route', 'show', 'table', 'all'])).stdout) as IpRoute[];
  const v6 = JSON.parse((await run(ip, ['-j', '-n', netns, '-6', 'route', 'show', 'table', 'all'])).stdout) as IpRoute[];
  const defaults = [...v4, ...v6].filter((r) => r.dst === 'default');
  if (defaults.length > 0) {
    throw new LabError('system', `netns ${netns} has a default route, which the lab never adds: ${JSON.stringify(defaults)}`);
  }
}
