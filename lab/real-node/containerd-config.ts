/*
 * One node's containerd configuration: its own root, state and sockets (several containerds on one
 * host must share none of them), runc from the node components with the cgroupfs driver the
 * kubelet uses, the CNI config of this node only, and the pause image the lab imports (no
 * registry is reachable, so nothing may need a pull).
 */
import type { NodeDirs } from './node-layout.js';

export interface ContainerdSettings {
  readonly dirs: NodeDirs;
  readonly runc: string;
  readonly cniBinDir: string;
  /** The sandbox image, already imported; containerd never pulls it while it is present. */
  readonly pauseImage: string;
}

const quote = (value: string): string => JSON.stringify(value);

export function containerdConfig({ dirs, runc, cniBinDir, pauseImage }: ContainerdSettings): string {
  return `version = 3
root = ${quote(dirs.containerdRoot)}
state = ${quote(dirs.containerdState)}
# NRI would listen on the host-wide /var/run/nri/nri.sock, which several containerds cannot share.
disabled_plugins = ['io.containerd.nri.v1.nri']

[grpc]
  address = ${quote(dirs.containerdSocket)}
[ttrpc]
  address = ${quote(`${dirs.containerdSocket}.ttrpc`)}

[plugins.'io.containerd.cri.v1.images']
  snapshotter = 'overlayfs'
[plugins.'io.containerd.cri.v1.images'.pinned_images]
  sandbox = ${quote(pauseImage)}

[plugins.'io.containerd.cri.v1.runtime']
  # Pod netns under this node's state dir rather than the host-wide /var/run/netns.
  netns_mounts_under_state_dir = true
  disable_apparmor = true
  # This host withholds CAP_SYS_RESOURCE even from root, so no process may lower its
  # oom_score_adj: runc would fail every sandbox (pause asks for -998). Clamp to containerd's own.
  restrict_oom_score_adj = true
  enable_criu = false
[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
  BinaryName = ${quote(runc)}
  SystemdCgroup = false
[plugins.'io.containerd.cri.v1.runtime'.cni]
  bin_dirs = [${quote(cniBinDir)}]
  conf_dir = ${quote(dirs.cniConfDir)}
  max_conf_num = 1
`;
}
