/**
 * What the kernel tests need from the machine, checked up front so that a missing piece fails
 * the suite with one clear message instead of a confusing error deep inside a test.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { probeHost } from '../host.js';

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
  const probe = probeHost({
    bpffs: BPFFS,
    bpffsHint: `mount -t bpf bpf ${BPFFS}`,
    tools: {
      ip: '`ip` from iproute2 (not in PATH, /usr/sbin or /sbin)',
      nsenter: '`nsenter` from util-linux (not in PATH, /usr/sbin or /sbin)',
      sh: '`sh`',
    },
    writableCgroup2: true,
  });
  const missing = [...probe.missing];
  const tsxLoader = findTsxLoader();
  if (!tsxLoader) missing.push('the tsx package (npm ci), used to run helper processes');
  const { ip, nsenter, sh } = probe.tools;
  const env: Partial<KernelEnv> = {
    ...(probe.cgroup2 ? { cgroup2: probe.cgroup2 } : {}),
    ...(ip ? { ip } : {}),
    ...(nsenter ? { nsenter } : {}),
    ...(sh ? { sh } : {}),
    ...(tsxLoader ? { tsxLoader } : {}),
  };
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
