/*
 * The node components a real node runs (`make node-components`, docs/real-nodes.md): found
 * through ${NEARBY_CACHE:-~/.cache/nearby}/node/current.json and checked before anything is
 * built, so a missing one is one "prereq" message naming every missing binary.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { isExecutable } from '../control-plane/index.js';
import { LabError } from '../errors.js';

export const NODE_BINARIES = ['kubelet', 'containerd', 'containerd-shim-runc-v2', 'ctr', 'runc'] as const;
export const CNI_PLUGINS = ['bridge', 'host-local', 'loopback'] as const;

export interface NodeBinaries {
  readonly kubelet: string;
  readonly containerd: string;
  readonly ctr: string;
  readonly runc: string;
  /** containerd finds its shim on PATH: this directory goes first on it. */
  readonly binDir: string;
  readonly cniBinDir: string;
  readonly versions: Readonly<Record<string, string>>;
}

export function nodeCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(env['NEARBY_CACHE'] || join(env['HOME'] || homedir(), '.cache', 'nearby'), 'node');
}

interface CurrentSet {
  readonly binDir?: unknown;
  readonly cniBinDir?: unknown;
  readonly [key: string]: unknown;
}

export function resolveNodeBinaries(env: NodeJS.ProcessEnv = process.env): NodeBinaries {
  const current = join(nodeCacheDir(env), 'current.json');
  const hint = 'run `make node-components` (docs/real-nodes.md)';
  if (!existsSync(current)) throw new LabError('prereq', `real nodes need the node components, but ${current} does not exist: ${hint}`);
  let set: CurrentSet;
  try {
    set = JSON.parse(readFileSync(current, 'utf8')) as CurrentSet;
  } catch (error) {
    throw new LabError('prereq', `${current} is not valid JSON: ${hint}`, { cause: error });
  }
  if (typeof set.binDir !== 'string' || typeof set.cniBinDir !== 'string')
    throw new LabError('prereq', `${current} names no binDir and cniBinDir: ${hint}`);
  const { binDir, cniBinDir } = set;
  const missing = [...NODE_BINARIES.map((name) => join(binDir, name)), ...CNI_PLUGINS.map((name) => join(cniBinDir, name))].filter(
    (path) => !isExecutable(path),
  );
  if (missing.length > 0) throw new LabError('prereq', `real nodes need node components that are missing: ${missing.join(', ')}; ${hint}`);
  const versions = Object.fromEntries(
    Object.entries(set).filter((e): e is [string, string] => e[0].endsWith('Version') && typeof e[1] === 'string'),
  );
  return {
    kubelet: join(binDir, 'kubelet'),
    containerd: join(binDir, 'containerd'),
    ctr: join(binDir, 'ctr'),
    runc: join(binDir, 'runc'),
    binDir,
    cniBinDir,
    versions,
  };
}
