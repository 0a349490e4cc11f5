/**
 * lab/real-node: the lab's real nodes (docs/real-nodes.md). Per node a netns on the lab bridge, its
 * own containerd, the CNI plugins with its pod CIDR, and a real kubelet registered with the lab's
 * API server; the cleanup `lab down` needs after them (mounts, cgroup v1 trees).
 *
 *   const binaries = resolveNodeBinaries();                 // prereq error naming what is missing
 *   const nodes = await RealNodes.start({ ...options, binaries }, plans);
 *   await nodes.stop();                                     // kubelets, then containerds
 */
export { resolveNodeBinaries, nodeCacheDir, NODE_BINARIES, CNI_PLUGINS, type NodeBinaries } from './binaries.js';
export { resolvePauseImage, resolveOtherImages, PAUSE_IMAGE } from './images.js';
export { RealNodes, type RealNodePlan, type RealNodesOptions, type NodeImage } from './real-nodes.js';
export { nodeDirs, nodeNetnsName, type NodeDirs } from './node-layout.js';
export { createV1Cgroups, existingLabV1Roots, labV1Pids, removeLabV1Cgroups } from './cgroup-v1.js';
export { mountsUnder, unmountUnder } from './mounts.js';
export { cniConfigList, gatewayOf } from './cni-config.js';
export { containerdConfig } from './containerd-config.js';
export { kubeletArgs, kubeletConfiguration, selfLabels, KUBELET_PORT } from './kubelet-config.js';
