/*
 * One node's kubelet: its KubeletConfiguration and command line. What is set and why is in
 * docs/real-nodes.md ("What the kubelet needs here"); in short: this host mounts cgroup v1
 * controllers (cgroup2 has none), so failCgroupV1 is false and the driver is cgroupfs (no systemd
 * runs the lab); each node has its own cgroupRoot (its lab node cgroup), root dir, pod log dir and
 * containerd, and every kubelet sees the whole machine, so disk and memory eviction thresholds are
 * kept out of the way of a shared, busy host.
 */
import { stringify } from 'yaml';
import type { NodeDirs } from './node-layout.js';

/** The kubelet's API port: the API server dials it for exec, logs and port-forward (lab/api-link.ts routes it). */
export const KUBELET_PORT = 10250;

export interface KubeletSettings {
  readonly dirs: NodeDirs;
  readonly nodeName: string;
  readonly nodeIp: string;
  /** The node's cgroup relative to the cgroup mounts, "/nearby-lab/<lab>/<node>". */
  readonly cgroupRoot: string;
  readonly clientCaFile: string;
  /** Its serving certificate (node IP and name), signed by the lab's CA, which the API server checks. */
  readonly serving: { readonly cert: string; readonly key: string };
  readonly clusterDns: string;
  /** Labels the kubelet may set on its own Node (the NodeRestriction rules); the lab sets the rest. */
  readonly labels: Readonly<Record<string, string>>;
  readonly taints: ReadonlyArray<{ readonly key: string; readonly value: string; readonly effect: string }>;
}

export function kubeletConfiguration(s: KubeletSettings): string {
  const config = {
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    // cgroup v1 controllers only on this host (docs/real-nodes.md); 1.35+ refuses v1 unless told.
    failCgroupV1: false,
    cgroupDriver: 'cgroupfs',
    cgroupRoot: s.cgroupRoot,
    cgroupsPerQOS: true,
    failSwapOn: false,
    // No CAP_SYS_RESOURCE here (containerd-config.ts): the kubelet cannot lower its own oom_score_adj.
    oomScoreAdj: 0,
    containerRuntimeEndpoint: `unix://${s.dirs.containerdSocket}`,
    address: s.nodeIp,
    port: KUBELET_PORT,
    readOnlyPort: 0,
    healthzBindAddress: '127.0.0.1',
    healthzPort: 10248,
    tlsCertFile: s.serving.cert,
    tlsPrivateKeyFile: s.serving.key,
    // The API server's kubelet client certificate (lab/control-plane/pki.ts) is of this CA; what it
    // may do is asked of the API server (Webhook), as on a kubeadm node.
    authentication: {
      anonymous: { enabled: false },
      webhook: { enabled: true },
      x509: { clientCAFile: s.clientCaFile },
    },
    authorization: { mode: 'Webhook' },
    clusterDomain: 'cluster.local',
    clusterDNS: [s.clusterDns],
    podLogsDir: s.dirs.podLogsDir,
    // Every kubelet here sees the host's whole disk and memory, shared with the other nodes and
    // with whatever else runs: the defaults (10% disk, 100Mi) would evict on a busy machine.
    evictionHard: { 'memory.available': '1Mi', 'nodefs.available': '1%', 'imagefs.available': '1%', 'nodefs.inodesFree': '1%' },
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
    // The images are imported, never pulled: garbage-collecting one could not be undone.
    imageMinimumGCAge: '87600h',
    // No per-pod ephemeral-storage accounting: it would walk the shared disk for every node.
    localStorageCapacityIsolation: false,
    serializeImagePulls: false,
    registerWithTaints: [...s.taints],
    nodeStatusReportFrequency: '10s',
    // Fewer housekeeping passes: several kubelets share 2 cores.
    housekeepingInterval: '30s',
    resolvConf: '',
  };
  return stringify(config);
}

export function kubeletArgs(s: KubeletSettings): string[] {
  const labels = Object.entries(s.labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  return [
    `--config=${s.dirs.kubeletConfig}`,
    `--kubeconfig=${s.dirs.kubeletKubeconfig}`,
    `--root-dir=${s.dirs.kubeletRoot}`,
    `--cert-dir=${s.dirs.kubeletRoot}/pki`,
    `--hostname-override=${s.nodeName}`,
    `--node-ip=${s.nodeIp}`,
    ...(labels ? [`--node-labels=${labels}`] : []),
    '--v=1',
  ];
}

/** What the kubelet may label its own Node with (NodeRestriction): the rest the lab sets with the admin identity. */
export function selfLabels(labels: Readonly<Record<string, string>>): { own: Record<string, string>; byAdmin: Record<string, string> } {
  const own: Record<string, string> = {};
  const byAdmin: Record<string, string> = {};
  for (const [key, value] of Object.entries(labels)) {
    const prefix = key.includes('/') ? key.slice(0, key.indexOf('/')) : '';
    const restricted = prefix === 'kubernetes.io' || prefix.endsWith('.kubernetes.io') || prefix === 'k8s.io' || prefix.endsWith('.k8s.io');
    const allowed =
      ['kubernetes.io/hostname', 'kubernetes.io/arch', 'kubernetes.io/os'].includes(key) ||
      prefix === 'topology.kubernetes.io' ||
      prefix === 'kubelet.kubernetes.io' ||
      prefix === 'node.kubernetes.io' ||
      key.startsWith('beta.kubernetes.io/') ||
      key.startsWith('failure-domain.beta.kubernetes.io/');
    if (!restricted || allowed) own[key] = value;
    else byAdmin[key] = value;
  }
  return { own, byAdmin };
}
