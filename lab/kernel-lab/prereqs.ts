/**
 * What the kernel tests need from the machine, checked up front so that a missing piece fails
 * the suite with one clear message instead of a confusing error deep inside a test.
 */
import { accessSync, constants } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { findCgroup2, findExecutable, isMounted } from '../primitives.js';

export const BPFFS = '/sys/fs/bpf';

export interface KernelEnv {
  /** Where cgroup v2 is mounted, e.g. /sys/fs/cgroup or /sys/fs/cgroup/unified (hybrid). */
  cgroup2: string;
  ip: string;
  nsenter: string;
  sh: string;
  /** file: URL of tsx's loader, for `node --import` in helper processes. */
  tsxLoader: string;
}

function findTsxLoader(): string | undefined {
  try {
    return pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  } catch {
    return undefined;
  }
}

function probeEnv(): { env: Partial<KernelEnv>; missing: string[] } {
  const missing: string[] = [];
  const uid = process.getuid?.();
  if (uid !== 0) missing.push(`root (running as uid ${uid ?? 'unknown'})`);

  const cgroup2 = findCgroup2();
  if (!cgroup2) missing.push('a cgroup2 mount (no fstype cgroup2 in /proc/mounts)');
  else {
    try {
      accessSync(cgroup2, constants.W_OK);
    } catch {
      missing.push(`write access to the cgroup2 mount ${cgroup2}`);
    }
  }
  if (!isMounted(BPFFS, 'bpf')) {
    missing.push(`bpffs mounted at ${BPFFS} (mount -t bpf bpf ${BPFFS})`);
  }

  const ip = findExecutable('ip');
  if (!ip) missing.push('`ip` from iproute2 (not in PATH, /usr/sbin or /sbin)');
  const nsenter = findExecutable('nsenter');
  if (!nsenter) missing.push('`nsenter` from util-linux (not in PATH, /usr/sbin or /sbin)');
  const sh = findExecutable('sh');
  if (!sh) missing.push('`sh`');
  const tsxLoader = findTsxLoader();
  if (!tsxLoader) missing.push('the tsx package (npm ci), used to run helper processes');

  const env: Partial<KernelEnv> = {};
  if (cgroup2) env.cgroup2 = cgroup2;
  if (ip) env.ip = ip;
  if (nsenter) env.nsenter = nsenter;
  if (sh) env.sh = sh;
  if (tsxLoader) env.tsxLoader = tsxLoader;
  return { env, missing };
}

function throwIfMissing(missing: string[]): void {
  if (missing.length > 0) {
    throw new Error(`kernel test prerequisites missing: ${missing.join('; ')}`);
  }
}

/** Throws, naming everything that is missing, unless this machine can run kernel tests. */
export function assertKernelPrereqs(): void {
  throwIfMissing(probeEnv().missing);
}

let cached: KernelEnv | undefined;

/** The checked environment; throws like assertKernelPrereqs when something is missing. */
export function kernelEnv(): KernelEnv {
  if (cached) return cached;
  const { env, missing } = probeEnv();
  throwIfMissing(missing);
  cached = env as KernelEnv;
  return cached;
}
