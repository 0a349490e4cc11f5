/*
 * What the lab needs from the machine, found once and checked up front, so a missing piece is
 * one clear message ("prereq") instead of a confusing failure halfway through `lab up`.
 */
import { accessSync, constants, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { LabError } from './errors.js';

export interface HostEnv {
  /** Where cgroup v2 is mounted: /sys/fs/cgroup, or /sys/fs/cgroup/unified on hybrid hosts. */
  readonly cgroup2: string;
  readonly bpffs: string;
  readonly ip: string;
  readonly sh: string;
  readonly sleep: string;
}

export const DEFAULT_BPFFS = '/sys/fs/bpf';

interface Mount {
  readonly fstype: string;
  readonly target: string;
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
export function findCgroup2(): string | undefined {
  const targets = readMounts()
    .filter((m) => m.fstype === 'cgroup2')
    .map((m) => m.target);
  return targets.find((t) => t === '/sys/fs/cgroup') ?? targets.find((t) => t === '/sys/fs/cgroup/unified') ?? targets[0];
}

/** Whether a filesystem of type `fstype` is mounted exactly at `target` (bpffs, say). */
export function isMounted(target: string, fstype: string): boolean {
  return readMounts().some((m) => m.target === target && m.fstype === fstype);
}

/** Test runners and sudo often drop sbin from PATH, where `ip` lives, so look there too. */
export function findExecutable(name: string): string | undefined {
  const dirs = [
    ...(process.env['PATH'] ?? '').split(delimiter),
    '/usr/local/sbin',
    '/usr/local/bin',
    '/usr/sbin',
    '/usr/bin',
    '/sbin',
    '/bin',
  ];
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

/** What a probe found, and one line per missing piece. */
export interface HostProbe {
  readonly cgroup2: string | undefined;
  readonly tools: Readonly<Record<string, string | undefined>>;
  readonly missing: readonly string[];
}

export interface HostNeeds {
  readonly bpffs: string;
  /** How to mount bpffs, in the message when it is not mounted. */
  readonly bpffsHint: string;
  /** Executables by name, each with what to call it when it is missing. */
  readonly tools: Readonly<Record<string, string>>;
  /** Whether the cgroup2 mount must be writable (checked now rather than at the first mkdir). */
  readonly writableCgroup2?: boolean;
}

/** Root, cgroup2, bpffs and the tools: found once, and everything missing named in one list. */
export function probeHost(needs: HostNeeds): HostProbe {
  const missing: string[] = [];
  const uid = process.getuid?.();
  if (uid !== 0) missing.push(`root (running as uid ${uid ?? 'unknown'})`);
  const cgroup2 = findCgroup2();
  if (!cgroup2) missing.push('a cgroup2 mount (no fstype cgroup2 in /proc/mounts)');
  else if (needs.writableCgroup2) {
    try {
      accessSync(cgroup2, constants.W_OK);
    } catch {
      missing.push(`write access to the cgroup2 mount ${cgroup2}`);
    }
  }
  if (!isMounted(needs.bpffs, 'bpf')) missing.push(`bpffs mounted at ${needs.bpffs} (${needs.bpffsHint})`);
  const tools: Record<string, string | undefined> = {};
  for (const [name, description] of Object.entries(needs.tools)) {
    tools[name] = findExecutable(name);
    if (!tools[name]) missing.push(description);
  }
  return { cgroup2, tools, missing };
}

let cached: HostEnv | undefined;

/** The checked host; throws a 'prereq' LabError naming everything that is missing. */
export function hostEnv(bpffs = DEFAULT_BPFFS): HostEnv {
  if (cached?.bpffs === bpffs) return cached;
  const probe = probeHost({
    bpffs,
    bpffsHint: `make bpffs, or mount -t bpf bpf ${bpffs}`,
    tools: { ip: '`ip` from iproute2', sh: '`sh`', sleep: '`sleep` from coreutils' },
  });
  const { ip, sh, sleep } = probe.tools;
  if (probe.missing.length > 0 || !probe.cgroup2 || !ip || !sh || !sleep) {
    throw new LabError('prereq', `the lab needs: ${probe.missing.join('; ')}`);
  }
  cached = { cgroup2: probe.cgroup2, bpffs, ip, sh, sleep };
  return cached;
}
