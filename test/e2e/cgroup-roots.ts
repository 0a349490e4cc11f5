/*
 * Directories at the top of every cgroup hierarchy (each v1 controller's mount and the cgroup2
 * one), to prove a lab made none outside its own `nearby-lab/<lab>`. A containerd client that sets
 * no cgroup path gets `/<namespace>/<id>` (containerd's default OCI spec), and runc removes only the
 * `<id>` leaf when the container is deleted: `ctr -n k8s.io run` against any node's containerd
 * leaves `k8s.io` at the top of every hierarchy. The real-node lab's kubelets always give a cgroup
 * parent under their cgroupRoot, so none of theirs may appear here.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CGROUP_BASE_DIR } from '../../lab/layout.js';

/** The CRI plugin's containerd namespace: the top-level cgroup a path-less container there leaves. */
export const CONTAINERD_CRI_NAMESPACE = 'k8s.io';

function cgroupMounts(): string[] {
  return readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .map((line) => line.split(' '))
    .filter((f) => f[2] === 'cgroup' || f[2] === 'cgroup2')
    .map((f) => f[1] ?? '')
    .filter(Boolean);
}

/** Every `<mount>/<dir>` at the top of each hierarchy. */
export function topLevelCgroups(): string[] {
  return cgroupMounts().flatMap((mount) =>
    readdirSync(mount, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => join(mount, e.name)),
  );
}

/** Top-level cgroups that were not there `before`, the labs' shared base aside (each lab's own tree is checked by name). */
export function newTopLevelCgroups(before: readonly string[]): string[] {
  const had = new Set(before);
  return topLevelCgroups().filter((dir) => !had.has(dir) && !dir.endsWith(`/${CGROUP_BASE_DIR}`));
}

/** `<mount>/k8s.io` wherever one exists. */
export function criNamespaceCgroups(): string[] {
  return topLevelCgroups().filter((dir) => dir.endsWith(`/${CONTAINERD_CRI_NAMESPACE}`));
}
