/*
 * `kubectl apply -k` on the real-node lab (docs/real-nodes.md, "kubectl apply -k"): the
 * kustomization a lab up with --agents daemonset writes into its state dir. It takes
 * lab/daemonset-overlay (deploy/'s base plus what one machine of several kubelets needs) as its
 * resource and replaces the overlay's ConfigMap with this lab's values: its API server's address
 * and the parent of its nodes' cgroup2 subtrees, relative to the base's cgroup hostPath.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import { parse, stringify } from 'yaml';
import { LabError } from './errors.js';
import { adminKubeconfigPath, type LabPaths } from './layout.js';
import { PROJECT_ROOT } from './programs.js';

/** The lab's overlay of deploy/, in the repository. */
export const DAEMONSET_OVERLAY = join(PROJECT_ROOT, 'lab/daemonset-overlay');
/** deploy/daemonset.yaml's cgroup volume: the host path the overlay mounts a node's subtree of. */
export const BASE_CGROUP_HOST_PATH = '/sys/fs/cgroup';
/** The overlay's ConfigMap and its keys (lab/daemonset-overlay/kustomization.yaml). */
export const LAB_NODE_CONFIG = 'nearby-lab-node';
/** Where the lab writes its kustomization, below its state dir. */
export const LAB_KUSTOMIZATION_DIR = 'nearby-kustomize';

export interface LabNodeValues {
  readonly apiServerHost: string;
  readonly apiServerPort: string;
  /** Relative to BASE_CGROUP_HOST_PATH; the node's own subtree is <parent>/<node name>. */
  readonly nodeCgroupParent: string;
}

/** The lab's values: the API server of its admin kubeconfig, its nodes' cgroup parent. */
export function labNodeValues(paths: Pick<LabPaths, 'stateDir' | 'cgroupRoot'>): LabNodeValues {
  const kubeconfig = adminKubeconfigPath(paths.stateDir);
  const config = parse(readFileSync(kubeconfig, 'utf8')) as { clusters?: Array<{ cluster?: { server?: string } }> };
  const server = config.clusters?.[0]?.cluster?.server;
  if (!server) throw new LabError('invalid', `${kubeconfig} names no API server`);
  const url = new URL(server);
  const parent = relative(BASE_CGROUP_HOST_PATH, paths.cgroupRoot);
  if (parent.startsWith('..') || isAbsolute(parent))
    throw new LabError(
      'invalid',
      `the lab's cgroups (${paths.cgroupRoot}) are not below ${BASE_CGROUP_HOST_PATH}, the cgroup hostPath of deploy/daemonset.yaml`,
    );
  return { apiServerHost: url.hostname, apiServerPort: url.port || '443', nodeCgroupParent: parent };
}

/** The kustomization's text, for a directory `dir`: kustomize takes resources by relative path only. */
export function labKustomization(dir: string, values: LabNodeValues): string {
  const header = [
    '# Written by nearbyctl lab up --agents daemonset: nearby for this lab with',
    `#   kubectl apply -k ${dir}`,
    '# and removed as deploy/uninstall/README.md says, with this directory in place of deploy/.',
  ];
  const body = {
    apiVersion: 'kustomize.config.k8s.io/v1beta1',
    kind: 'Kustomization',
    resources: [relative(dir, DAEMONSET_OVERLAY)],
    configMapGenerator: [
      {
        name: LAB_NODE_CONFIG,
        namespace: 'nearby-system',
        behavior: 'replace',
        literals: [
          `api-server-host=${values.apiServerHost}`,
          `api-server-port=${values.apiServerPort}`,
          `node-cgroup-parent=${values.nodeCgroupParent}`,
        ],
      },
    ],
  };
  return `${header.join('\n')}\n${stringify(body)}`;
}

/** Writes the lab's kustomization below its state dir; returns the directory to `kubectl apply -k`. */
export function writeLabKustomization(paths: Pick<LabPaths, 'stateDir' | 'cgroupRoot'>): string {
  const dir = join(paths.stateDir, LAB_KUSTOMIZATION_DIR);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'kustomization.yaml'), labKustomization(dir, labNodeValues(paths)));
  return dir;
}
