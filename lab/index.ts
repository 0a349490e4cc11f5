/**
 * The lab (@nearby/lab, a package of its own beside the product): a kind-like cluster simulated
 * on one kernel, for demos and end-to-end tests. It reaches the product only through the product
 * packages' index.ts (test/unit/lab/package-boundary.test.ts), and the product never imports it.
 *
 * Nodes are cgroup v2 subtrees, each with its own nearby-agent and pin root; pods are processes
 * in their own network namespaces, joined by veth pairs to one bridge namespace (kind's docker
 * network), addressed from the kind config's podSubnet (kind's 10.244.0.0/16 by default), with no route out of the lab. A supervisor process per
 * lab is the kubelet, scheduler and EndpointSlice controller: it publishes Nodes, Namespaces,
 * Services, EndpointSlices and Pods as YAML in the lab's cluster/ directory, which the agents
 * read through their FileSource. Images map to built-in programs (images.ts).
 *
 * Typical use (a demo driver or a vitest e2e test; needs root, bpffs and `make build`):
 *
 *   const { lab } = await labUp({ files: ['deploy/samples/kind-cluster.yaml', 'deploy/samples/...'] });
 *   try {
 *     const sleep = await lab.podName('app=sleep', 'sample');
 *     const r = await lab.exec(sleep, ['curl', '-sS', 'http://helloworld:5000/hello'], { namespace: 'sample' });
 *     await lab.delete('deployment', 'helloworld-region.zone1.subzone1', { namespace: 'sample' }); // waits until converged
 *     await lab.label('ambient-worker3', { 'topology.kubernetes.io/zone': 'zone1' }, { overwrite: true });
 *   } finally {
 *     await labDown({ name: lab.name });   // throws if anything is left behind
 *   }
 *
 * With { controlPlane: true } (`lab up --control-plane`) the lab runs a real etcd, kube-apiserver,
 * kube-controller-manager and kube-scheduler (`make control-plane`) instead: the supervisor is
 * then only the kubelet of the lab's nodes, the agents watch the API server with their own
 * ServiceAccount token and the RBAC of deploy/, and kubectl works with the printed KUBECONFIG.
 *
 * Every mutating call waits (unless { wait: false }) until all pods are ready and every node's
 * pinned maps hold what the planner computes for the published objects, so the next step sees
 * the change. State lives in /run/nearby-lab/<name>/ (lab.json records everything created).
 *
 * Inside: supervisor.ts runs a lab over a ClusterBackend, file-backend.ts (the lab's own
 * controllers) or api-backend.ts (a real control plane), and answers the requests of
 * control-protocol.ts; cli/ is `nearbyctl lab` and `nearbyctl demo` (and the bin nearby-lab);
 * kernel-lab/ is the kernel tests' harness, on the same netns, cgroup and process primitives.
 */
export { labUp, type UpOptions, type UpResult } from './up.js';
export type { LabAgents } from './agent-process.js';
export { labDown, type DownResult } from './down.js';
export { readLabSet as labSetOf, kindContext, type LabSetRecord } from './lab-set.js';
export { LabClient, listLabs, resolveLabName, DEFAULT_TIMEOUT_MS, type ManifestInput, type WaitOptions } from './client.js';
export { LabError, isLabError, type LabErrorCode } from './errors.js';
export type { ExecOptions } from './pod-exec.js';
export type { ExecResult } from './exec-result.js';
export { POD_FAULTS, type PodFault } from './pod-fault.js';
export { PROBE as READINESS_PROBE } from './pod-runtime.js';
export type { AgentStatus, ExecTarget, LabStatus, NodeStatus, PodStatus, ServicePolicy, ServiceStatus, Settlement } from './status.js';
export type { TeardownReport } from './teardown.js';
export { hostEnv, type HostEnv } from './host.js';
export { labPaths, isLabNetns, prometheusUrlFile, type LabPaths } from './layout.js';
export { readRecord, type LabRecord } from './record.js';
export { knownImages } from './images.js';
export { execInContainer, podProcesses, podProcessNamed } from './container-exec.js';
export { PROJECT_ROOT } from './programs.js';
export {
  BASE_CGROUP_HOST_PATH,
  DAEMONSET_OVERLAY,
  LAB_KUSTOMIZATION_DIR,
  labKustomization,
  labNodeValues,
  writeLabKustomization,
  type LabNodeValues,
} from './daemonset-kustomization.js';
export { resolveControlPlaneBinaries, type ControlPlaneBinaries } from './control-plane/index.js';
export { addApiServerRoute } from './api-link.js';
export { apiHostDevice, API_ADDRESS_RANGE, API_SERVER_PORT } from './api-address.js';
export { resolveNodeBinaries, resolvePauseImage, PAUSE_IMAGE } from './real-node/index.js';
