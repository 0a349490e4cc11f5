/*
 * `nearby-agent --cleanup`: what the uninstall DaemonSet runs on each node. It needs to know only
 * where the node's pins are, so it takes the agent's placement flags and envs and nothing else
 * is required (no cgroup: a detach needs only the link).
 */
import { parseArgs } from 'node:util';
import { StartupError } from '../startup-error.js';
import { isNodeName, pinRootFor } from './options.js';

export interface CleanupOptions {
  readonly nodeName: string;
  readonly pinRoot: string;
  readonly logLevel: string;
}

export const CLEANUP_FLAG = '--cleanup';

export function cleanupUsage(): string {
  return [
    'usage: nearby-agent --cleanup [--node-name NAME] [--bpffs PATH] [--log-level LEVEL]',
    '  detaches every program nearby attached on this node and removes the pins it owns under <bpffs>/nearby/<node>;',
    '  pins it does not own are left and reported. Exit 0: nothing of nearby is left; 1: something is; 2: usage.',
    '  NODE_NAME, NEARBY_BPFFS (default /sys/fs/bpf) and LOG_LEVEL (default info) as for the agent.',
  ].join('\n');
}

/** Undefined for --help; throws StartupError for anything wrong. */
export function parseCleanupOptions(argv: readonly string[], env: NodeJS.ProcessEnv): CleanupOptions | undefined {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        cleanup: { type: 'boolean' },
        'node-name': { type: 'string' },
        bpffs: { type: 'string' },
        'log-level': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new StartupError('usage', `${(error as Error).message}; see --cleanup --help`);
  }
  if (values['help']) return undefined;
  const text = (flag: string, envName: string): string | undefined => {
    const v = values[flag];
    return typeof v === 'string' && v !== '' ? v : env[envName] || undefined;
  };
  const nodeName = text('node-name', 'NODE_NAME');
  if (!nodeName) throw new StartupError('missing-node-name', '--node-name or NODE_NAME is required: the node whose pins to remove');
  if (!isNodeName(nodeName))
    throw new StartupError('bad-option', `--node-name/NODE_NAME: ${JSON.stringify(nodeName)} is not a valid node name`);
  const bpffs = text('bpffs', 'NEARBY_BPFFS') ?? '/sys/fs/bpf';
  return { nodeName, pinRoot: pinRootFor(bpffs, nodeName), logLevel: text('log-level', 'LOG_LEVEL') ?? 'info' };
}
