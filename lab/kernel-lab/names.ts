/**
 * How the harness names what it creates. Every name embeds the PID of the process that created
 * it, so a later run can tell a crashed run's leftovers (owner dead) from a live run's resources
 * (owner alive, maybe another test process on this machine) and only ever remove the former.
 *
 *   netns      nbt-<pid>-<lab>
 *   cgroup     <cgroup2>/nearby-test/<pid>-<lab>[/<node>]
 *   pin root   /sys/fs/bpf/nearby/nbt-<pid>-<lab>-<node>   (also the node name used for pinning)
 */

export const NETNS_PREFIX = 'nbt-';
export const CGROUP_BASE_DIR = 'nearby-test';

/** Lowercase DNS-label-like, short enough that nbt-<pid>-<lab>-<node> fits in 63 characters. */
const NAME_PATTERN = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
const MAX_NAME_LENGTH = 20;

export function assertValidName(kind: string, name: string): void {
  if (!NAME_PATTERN.test(name) || name.length > MAX_NAME_LENGTH) {
    throw new Error(`invalid ${kind} name ${JSON.stringify(name)}: use at most ${MAX_NAME_LENGTH} of [a-z0-9-], starting with a letter`);
  }
}

export function labNetnsName(pid: number, lab: string): string {
  return `${NETNS_PREFIX}${pid}-${lab}`;
}

export function labCgroupDirName(pid: number, lab: string): string {
  return `${pid}-${lab}`;
}

export function simNodeName(pid: number, lab: string, node: string): string {
  return `${NETNS_PREFIX}${pid}-${lab}-${node}`;
}

/** The creating PID of a netns or pin root name, or undefined if the harness did not name it. */
export function ownerOfPrefixedName(name: string): number | undefined {
  const match = /^nbt-(\d+)-[a-z]/.exec(name);
  return match ? Number(match[1]) : undefined;
}

/** The creating PID of a lab cgroup directory name. */
export function ownerOfCgroupDirName(name: string): number | undefined {
  const match = /^(\d+)-[a-z]/.exec(name);
  return match ? Number(match[1]) : undefined;
}
