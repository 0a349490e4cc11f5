/**
 * lab/control-plane: a real Kubernetes control plane (etcd, kube-apiserver,
 * kube-controller-manager, kube-scheduler) on loopback for the lab and the tests, the binaries it
 * runs, and the agent's least-privilege identity against it.
 *
 *   const cp = await ControlPlane.start({ dir, logDir, logger, onProcess: record });
 *   try {
 *     const agentKubeconfig = await agentIdentity(cp);   // the agent's RBAC from deploy/, never admin
 *     await cp.kubectl(['apply', '-f', '-'], yaml);      // as admin
 *   } finally {
 *     await cp.stop();                                   // scheduler, controller manager, apiserver, etcd
 *   }
 */
export { ControlPlane, type ControlPlaneOptions } from './control-plane.js';
export { agentIdentity, AGENT_IDENTITY, type AgentIdentityOptions } from './agent-identity.js';
export { ControlPlaneError, type ControlPlaneComponent } from './errors.js';
export type { KubectlResult } from './kubectl.js';
export { DEFAULT_SERVICE_CIDR } from './service-cidr.js';
export * from './binaries.js';
export { readPinnedVersions, type PinnedVersions } from './versions.js';
export { writeKubeconfig } from './kubeconfig.js';
export { issueClientCertificate, issueServingCertificate, type KeyPair } from './pki.js';
export { lastLines, logSize } from './log-tail.js';
