/*
 * Where a lab keeps things and how it names them. Every name embeds the lab name with a
 * separator a lab name cannot contain ('.'), so a lab never mistakes another lab's netns,
 * cgroup or hosts directory for its own.
 *
 *   state dir     /run/nearby-lab/<lab>/            lab.json, cluster/, logs/, control.sock
 *   cgroups       <cgroup2>/nearby-lab/<lab>/<node>/<namespace>.<pod>   (pods under their node)
 *                 <cgroup2>/nearby-lab/<lab>/_system/                  (supervisor, agents, prober)
 *   netns         nbl.<lab>                 the bridge, like kind's docker network
 *                 nbl.<lab>.<namespace>.<pod>
 *   hosts files   /etc/netns/<pod netns>/{hosts,resolv.conf}   (ip netns exec mounts them)
 *   pin roots     <bpffs>/nearby/<node>       (the agent's own layout; node names embed the lab)
 */
import { join } from 'node:path';
import { LabError } from './errors.js';

export const RUN_BASE = '/run/nearby-lab';
export const CGROUP_BASE_DIR = 'nearby-lab';
export const SYSTEM_CGROUP = '_system';
export const NETNS_PREFIX = 'nbl.';
export const ETC_NETNS = '/etc/netns';
export const DEFAULT_LAB_NAME = 'nearby';

/** Like a kind cluster name; short, so socket paths and node names stay within limits. */
const LAB_NAME = /^[a-z]([-a-z0-9]{0,30}[a-z0-9])?$/;

export function assertLabName(name: string): void {
  if (!LAB_NAME.test(name)) {
    throw new LabError(
      'usage',
      `invalid lab name ${JSON.stringify(name)}: use 1-32 of [a-z0-9-], starting with a letter and not ending with '-'`,
    );
  }
}

/** Where nearby agents pin per node, <bpffs>/nearby/<node>: the agent's own layout, which the lab and the kernel lab name and remove. */
export function pinBaseOf(bpffs: string): string {
  return join(bpffs, 'nearby');
}

export interface LabPaths {
  readonly name: string;
  readonly stateDir: string;
  readonly record: string;
  readonly clusterDir: string;
  readonly logDir: string;
  readonly socket: string;
  readonly cgroupBase: string;
  readonly cgroupRoot: string;
  readonly systemCgroup: string;
  readonly bridgeNetns: string;
  readonly pinBase: string;
}

/** A lab's state dir and the files in it; runBase is a parameter so tests can point at a fake lab. */
export function labStateFiles(
  name: string,
  runBase = RUN_BASE,
): Pick<LabPaths, 'name' | 'stateDir' | 'record' | 'clusterDir' | 'logDir' | 'socket'> {
  assertLabName(name);
  const stateDir = join(runBase, name);
  return {
    name,
    stateDir,
    record: join(stateDir, 'lab.json'),
    clusterDir: join(stateDir, 'cluster'),
    logDir: join(stateDir, 'logs'),
    socket: join(stateDir, 'control.sock'),
  };
}

export function labPaths(name: string, cgroup2: string, bpffs: string): LabPaths {
  const cgroupBase = join(cgroup2, CGROUP_BASE_DIR);
  const cgroupRoot = join(cgroupBase, name);
  return {
    ...labStateFiles(name),
    cgroupBase,
    cgroupRoot,
    systemCgroup: join(cgroupRoot, SYSTEM_CGROUP),
    bridgeNetns: `${NETNS_PREFIX}${name}`,
    pinBase: pinBaseOf(bpffs),
  };
}

/** A lab on a real control plane: its admin kubeconfig, which users' kubectl (and the lab set's other clusters) read. */
export function adminKubeconfigPath(stateDir: string): string {
  return join(stateDir, 'kubeconfig');
}

/** True for the lab's bridge netns and its pods' netns. */
export function isLabNetns(lab: string, netns: string): boolean {
  const bridge = `${NETNS_PREFIX}${lab}`;
  return netns === bridge || netns.startsWith(`${bridge}.`);
}

export function podNetnsName(lab: string, namespace: string, pod: string): string {
  return `${NETNS_PREFIX}${lab}.${namespace}.${pod}`;
}

export function podCgroupDirName(namespace: string, pod: string): string {
  return `${namespace}.${pod}`;
}

export function etcNetnsDir(netns: string): string {
  return join(ETC_NETNS, netns);
}

/** Holds the URL of the lab's Prometheus (`lab up --prometheus`), once it is ready. */
export function prometheusUrlFile(stateDir: string): string {
  return join(stateDir, 'prometheus-url');
}
