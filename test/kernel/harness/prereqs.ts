/**
 * What the kernel tests need from the machine, checked up front so that a missing piece fails
 * the suite with one clear message instead of a confusing error deep inside a test.
 */
import { accessSync, constants, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, join } from 'node:path';
import { pathToFileURL } from 'node:url';

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

interface Mount {
  fstype: string;
  target: string;
}

/** /proc/mounts escapes space, tab, newline and backslash as octal. */
function unescapeMountField(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_m, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

function readMounts(): Mount[] {
  return readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const [, target = '', fstype = ''] = line.split(' ');
      return { target: unescapeMountField(target), fstype };
    });
}

/** The cgroup2 mount, preferring the usual places when there is more than one. */
function findCgroup2(mounts: Mount[]): string | undefined {
  const targets = mounts.filter((m) => m.fstype === 'cgroup2').map((m) => m.target);
  return targets.find((t) => t === '/sys/fs/cgroup') ?? targets.find((t) => t === '/sys/fs/cgroup/unified') ?? targets[0];
}

/** Test runners often drop sbin from PATH, where `ip` lives, so look there too. */
function findExecutable(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin', '/usr/bin', '/bin'];
  for (const dir of dirs.filter((d) => d !== '')) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
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

  const mounts = readMounts();
  const cgroup2 = findCgroup2(mounts);
  if (!cgroup2) missing.push('a cgroup2 mount (no fstype cgroup2 in /proc/mounts)');
  else {
    try {
      accessSync(cgroup2, constants.W_OK);
    } catch {
      missing.push(`write access to the cgroup2 mount ${cgroup2}`);
    }
  }
  if (!mounts.some((m) => m.target === BPFFS && m.fstype === 'bpf')) {
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
