/*
 * Where one real node keeps its things, all under the lab's state dir, so `lab down` removing the
 * state dir removes them (after unmounting what containerd and the kubelet mounted there):
 *
 *   <state dir>/nodes/<node>/containerd.toml, containerd.sock   its containerd's config and socket
 *                            containerd/{root,state}           its containerd's root and state
 *                            cni/net.d, cni/ipam               its CNI config and host-local's leases
 *                            kubelet/                          its kubelet's root dir, config, kubeconfig, pod logs
 *   netns nbl.<lab>._node.<node>    the node's network namespace on the lab bridge ('_' cannot start a
 *                                   Kubernetes namespace, so no pod netns of the process lab is named so)
 */
import { join } from 'node:path';
import { LabError } from '../errors.js';
import { NETNS_PREFIX } from '../layout.js';

/** sockaddr_un's sun_path holds 108 bytes with the terminating NUL. */
const MAX_SOCKET_PATH = 107;

export interface NodeDirs {
  readonly dir: string;
  readonly netns: string;
  readonly containerdConfig: string;
  readonly containerdSocket: string;
  readonly containerdRoot: string;
  readonly containerdState: string;
  readonly cniConfDir: string;
  readonly cniIpamDir: string;
  readonly kubeletRoot: string;
  readonly kubeletConfig: string;
  readonly kubeletKubeconfig: string;
  readonly podLogsDir: string;
  readonly containerdLog: string;
  readonly kubeletLog: string;
}

export function nodeNetnsName(lab: string, node: string): string {
  return `${NETNS_PREFIX}${lab}._node.${node}`;
}

export function nodeDirs(stateDir: string, logDir: string, lab: string, node: string): NodeDirs {
  const dir = join(stateDir, 'nodes', node);
  const kubeletRoot = join(dir, 'kubelet');
  const dirs: NodeDirs = {
    dir,
    netns: nodeNetnsName(lab, node),
    containerdConfig: join(dir, 'containerd.toml'),
    containerdSocket: join(dir, 'containerd.sock'),
    containerdRoot: join(dir, 'containerd', 'root'),
    containerdState: join(dir, 'containerd', 'state'),
    cniConfDir: join(dir, 'cni', 'net.d'),
    cniIpamDir: join(dir, 'cni', 'ipam'),
    kubeletRoot,
    kubeletConfig: join(dir, 'kubelet-config.yaml'),
    kubeletKubeconfig: join(dir, 'kubelet.kubeconfig'),
    podLogsDir: join(kubeletRoot, 'pod-logs'),
    containerdLog: join(logDir, `containerd-${node}.log`),
    kubeletLog: join(logDir, `kubelet-${node}.log`),
  };
  // The ttrpc socket is the longest path containerd binds.
  if (`${dirs.containerdSocket}.ttrpc`.length > MAX_SOCKET_PATH)
    throw new LabError(
      'invalid',
      `node ${node}: socket path ${dirs.containerdSocket}.ttrpc is longer than ${MAX_SOCKET_PATH} bytes; use a shorter lab name`,
    );
  return dirs;
}
