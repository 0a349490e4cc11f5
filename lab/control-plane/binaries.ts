/*
 * Finds the control-plane binaries the lab runs: etcd, kube-apiserver, kube-controller-manager,
 * kube-scheduler and kubectl, all of the pinned release. `make control-plane`
 * (test/control-plane/build.sh) provides them; this only looks, and never builds, because a build
 * takes minutes and must not start as a side effect of bringing a lab up.
 *
 * Looked for in this order:
 *   1. NEARBY_CONTROL_PLANE_BIN, a directory holding all five, taken as it is (no version check):
 *      it is set on purpose, for instance to try another release.
 *   2. KUBEBUILDER_ASSETS, then PATH, when all five are there and report the pinned release
 *      (etcd: 3.5 or later), the same rule build.sh applies.
 *   3. ${NEARBY_CACHE:-$HOME/.cache/nearby}/control-plane/current.json, written by build.sh.
 */
import { execFileSync } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { LabError } from '../errors.js';
import { readPinnedVersions, type PinnedVersions } from './versions.js';

export const CONTROL_PLANE_BINARIES = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kubectl'] as const;
export type ControlPlaneBinary = (typeof CONTROL_PLANE_BINARIES)[number];

export interface ControlPlaneBinaries {
  /** The Kubernetes release the four Kubernetes binaries report, e.g. v1.36.3. */
  readonly version: string;
  /** The release etcd reports, e.g. 3.6.8; unknown for an override. */
  readonly etcdVersion: string;
  readonly source: 'override' | 'installed' | 'cache';
  readonly etcd: string;
  readonly kubeApiserver: string;
  readonly kubeControllerManager: string;
  readonly kubeScheduler: string;
  readonly kubectl: string;
}

/** The binaries could not all be found; `missing` names those without a usable copy. */
export class ControlPlaneBinariesMissingError extends LabError {
  constructor(
    readonly missing: readonly ControlPlaneBinary[],
    readonly reasons: readonly string[],
  ) {
    super(
      'prereq',
      `control-plane binaries missing: ${missing.join(', ')} (${reasons.join('; ')}). ` +
        'Run `make control-plane` to build them once into the cache.',
    );
    this.name = 'ControlPlaneBinariesMissingError';
  }
}

export interface ResolveOptions {
  /** The environment to read PATH, KUBEBUILDER_ASSETS, NEARBY_* and HOME from. */
  readonly env?: NodeJS.ProcessEnv;
  readonly pinned?: PinnedVersions;
}

const FIELD: Record<ControlPlaneBinary, keyof ControlPlaneBinaries> = {
  etcd: 'etcd',
  'kube-apiserver': 'kubeApiserver',
  'kube-controller-manager': 'kubeControllerManager',
  'kube-scheduler': 'kubeScheduler',
  kubectl: 'kubectl',
};

type Paths = Record<ControlPlaneBinary, string>;

export function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function toResult(paths: Paths, version: string, etcdVersion: string, source: ControlPlaneBinaries['source']): ControlPlaneBinaries {
  return {
    version,
    etcdVersion,
    source,
    etcd: paths.etcd,
    kubeApiserver: paths['kube-apiserver'],
    kubeControllerManager: paths['kube-controller-manager'],
    kubeScheduler: paths['kube-scheduler'],
    kubectl: paths.kubectl,
  };
}

/** What a binary says its version is (v1.36.3, or 3.6.8 for etcd); undefined if it cannot say. */
export function reportedVersion(name: ControlPlaneBinary, path: string): string | undefined {
  const args = name === 'kubectl' ? ['version', '--client'] : ['--version'];
  const pattern = name === 'etcd' ? /^etcd Version: *(\S+)/m : name === 'kubectl' ? /^Client Version: *(\S+)/m : /^Kubernetes *(\S+)/m;
  try {
    const out = execFileSync(path, args, { encoding: 'utf8', timeout: 20_000, stdio: ['ignore', 'pipe', 'ignore'] });
    return pattern.exec(out)?.[1];
  } catch {
    return undefined;
  }
}

function acceptableInstalled(name: ControlPlaneBinary, version: string | undefined, pinned: PinnedVersions): boolean {
  if (version === undefined) return false;
  if (name === 'etcd') return /^3\.([5-9]|[1-9]\d)\.\d+$/.test(version);
  return version === pinned.kubernetes;
}

function fromOverride(dir: string, pinned: PinnedVersions): ControlPlaneBinaries {
  const paths = Object.fromEntries(CONTROL_PLANE_BINARIES.map((name) => [name, join(dir, name)])) as Paths;
  const missing = CONTROL_PLANE_BINARIES.filter((name) => !isExecutable(paths[name]));
  if (missing.length > 0) {
    throw new ControlPlaneBinariesMissingError(missing, [`NEARBY_CONTROL_PLANE_BIN=${dir} has no executable ${missing.join(', ')}`]);
  }
  return toResult(paths, pinned.kubernetes, 'unknown', 'override');
}

function findInstalled(name: ControlPlaneBinary, env: NodeJS.ProcessEnv): string | undefined {
  const dirs = [env.KUBEBUILDER_ASSETS, ...(env.PATH ?? '').split(delimiter)].filter((dir): dir is string => !!dir);
  return dirs.map((dir) => join(dir, name)).find(isExecutable);
}

/**
 * Rule 2: all five installed and of the pinned release. Versions are checked only once all five
 * are found, so the usual case (none installed) runs nothing. Adds what it verified to `usable`.
 */
function fromInstalled(
  env: NodeJS.ProcessEnv,
  pinned: PinnedVersions,
  reasons: string[],
  usable: Set<ControlPlaneBinary>,
): ControlPlaneBinaries | undefined {
  const found = new Map<ControlPlaneBinary, string>();
  for (const name of CONTROL_PLANE_BINARIES) {
    const path = findInstalled(name, env);
    if (path) found.set(name, path);
  }
  if (found.size < CONTROL_PLANE_BINARIES.length) {
    reasons.push(`not all in KUBEBUILDER_ASSETS/PATH (found ${[...found.keys()].join(', ') || 'none'})`);
    return undefined;
  }
  let etcdVersion = '';
  for (const [name, path] of found) {
    const version = reportedVersion(name, path);
    if (!acceptableInstalled(name, version, pinned)) {
      reasons.push(`${path} reports ${version ?? 'no version'}, not ${name === 'etcd' ? '3.5 or later' : pinned.kubernetes}`);
      continue;
    }
    usable.add(name);
    if (name === 'etcd') etcdVersion = version!;
  }
  if (usable.size < CONTROL_PLANE_BINARIES.length) return undefined;
  return toResult(Object.fromEntries(found) as Paths, pinned.kubernetes, etcdVersion, 'installed');
}

export function controlPlaneCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.NEARBY_CACHE || join(env.HOME || homedir(), '.cache', 'nearby'), 'control-plane');
}

/**
 * Rule 3: the record build.sh left, if it is for the pinned release and its files are still
 * there. Adds the ones still there to `usable`.
 */
function fromCache(
  env: NodeJS.ProcessEnv,
  pinned: PinnedVersions,
  reasons: string[],
  usable: Set<ControlPlaneBinary>,
): ControlPlaneBinaries | undefined {
  const file = join(controlPlaneCacheDir(env), 'current.json');
  let record: Partial<Record<keyof ControlPlaneBinaries, unknown>>;
  try {
    record = JSON.parse(readFileSync(file, 'utf8')) as typeof record;
  } catch {
    reasons.push(`no readable ${file}`);
    return undefined;
  }
  if (record.version !== pinned.kubernetes) {
    reasons.push(`${file} is for ${String(record.version)}, not ${pinned.kubernetes}`);
    return undefined;
  }
  const paths = {} as Paths;
  const gone: string[] = [];
  for (const name of CONTROL_PLANE_BINARIES) {
    const path = record[FIELD[name]];
    if (typeof path === 'string' && isExecutable(path)) {
      paths[name] = path;
      usable.add(name);
    } else {
      gone.push(name);
    }
  }
  if (gone.length > 0) {
    reasons.push(`${file} names ${gone.join(', ')}, which are no longer there`);
    return undefined;
  }
  const source = record.source === 'installed' ? 'installed' : 'cache';
  return toResult(paths, pinned.kubernetes, typeof record.etcdVersion === 'string' ? record.etcdVersion : 'unknown', source);
}

/**
 * The control-plane binaries of the pinned release. Throws ControlPlaneBinariesMissingError, naming
 * what is missing and why, when `make control-plane` has not provided them.
 */
export function resolveControlPlaneBinaries(options: ResolveOptions = {}): ControlPlaneBinaries {
  const env = options.env ?? process.env;
  const pinned = options.pinned ?? readPinnedVersions();
  const override = env.NEARBY_CONTROL_PLANE_BIN;
  if (override) return fromOverride(override, pinned);

  const reasons: string[] = [];
  const usable = new Set<ControlPlaneBinary>();
  const found = fromInstalled(env, pinned, reasons, usable) ?? fromCache(env, pinned, reasons, usable);
  if (found) return found;
  throw new ControlPlaneBinariesMissingError(
    CONTROL_PLANE_BINARIES.filter((name) => !usable.has(name)),
    reasons,
  );
}
