/*
 * Which node nearbyctl asks about when --node is not given. Inside the agent's pod NODE_NAME is
 * set from the downward API; on a node's shell the node's own pins usually are the only ones,
 * so `nearbyctl maps` needs no flag in either place. Guessing among several is never done.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { StartupError } from '../startup-error.js';

/** Node names that have a pin root under <bpffs>/nearby/, sorted. */
export function pinnedNodes(bpffs: string): string[] {
  try {
    return readdirSync(join(bpffs, 'nearby'), { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name)
      .sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

/** --node, else $NODE_NAME, else the one node pinned under <bpffs>/nearby/. */
export function nodeForMaps(flag: string | undefined, env: NodeJS.ProcessEnv, bpffs: string): string {
  if (flag) return flag;
  if (env['NODE_NAME']) return env['NODE_NAME'];
  const nodes = pinnedNodes(bpffs);
  const where = join(bpffs, 'nearby');
  if (nodes.length === 1) return nodes[0]!;
  if (nodes.length === 0) {
    throw new StartupError(
      'usage',
      `no node is pinned under ${where} (is nearby-agent running here?); name one with --node NAME or NODE_NAME`,
    );
  }
  throw new StartupError(
    'usage',
    `${nodes.length} nodes are pinned under ${where}: ${nodes.join(', ')}; choose one with --node NAME or NODE_NAME`,
  );
}

/** --node, else $NODE_NAME: a plan from manifests has no pins to pick a node from. */
export function nodeForExplain(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  const node = flag || env['NODE_NAME'];
  if (!node) throw new StartupError('usage', '--node NAME or NODE_NAME is required: the node whose connects to explain');
  return node;
}

/**
 * --node, else $NODE_NAME, else the one node pinned under <bpffs>/nearby/. Undefined when none
 * is pinned: uninstall on a clean node has nothing to do, which is not an error (it is re-run).
 */
export function nodeForUninstall(flag: string | undefined, env: NodeJS.ProcessEnv, bpffs: string): string | undefined {
  if (!flag && !env['NODE_NAME'] && pinnedNodes(bpffs).length === 0) return undefined;
  return nodeForMaps(flag, env, bpffs);
}
