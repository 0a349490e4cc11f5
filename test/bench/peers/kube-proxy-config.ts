/*
 * kube-proxy's configuration file (KubeProxyConfiguration v1alpha1) for a peer that programs one
 * network namespace the benchmark made. A file rather than flags: with --config the per-setting
 * flags are ignored, and several of them are deprecated.
 */
import { stringify } from 'yaml';

export type KubeProxyMode = 'iptables' | 'nftables';

/** Inside the peer's own namespace, so several peers never collide and nothing listens outside. */
export const KUBE_PROXY_HEALTHZ = '127.0.0.1:10256';
export const KUBE_PROXY_METRICS = '127.0.0.1:10249';

export interface KubeProxyConfigSpec {
  readonly mode: KubeProxyMode;
  readonly kubeconfig: string;
  readonly nodeName: string;
  /** The node's primary IP, the address the namespace has; kube-proxy binds nothing to it. */
  readonly nodeIp: string;
  /** kube-proxy's default is 1 s in both modes; 0 resyncs on every change (its fastest). */
  readonly minSyncPeriodMs?: number;
}

export function kubeProxyConfig(spec: KubeProxyConfigSpec): string {
  const sync = { minSyncPeriod: `${spec.minSyncPeriodMs ?? 1000}ms`, syncPeriod: '30s' };
  return stringify({
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
    kind: 'KubeProxyConfiguration',
    mode: spec.mode,
    hostnameOverride: spec.nodeName,
    bindAddress: spec.nodeIp,
    // Its informers list 10,000 Services and their slices at start; the default 5 qps throttles
    // only the writes (events), but a benchmark must not measure client-side throttling.
    clientConnection: { kubeconfig: spec.kubeconfig, qps: 100, burst: 200, contentType: 'application/vnd.kubernetes.protobuf' },
    // nf_conntrack_max is global and writable only from the initial namespace: 0 leaves it as is
    // (the per-namespace timeouts kube-proxy sets stay per namespace).
    conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: '24h', tcpCloseWaitTimeout: '1h' },
    healthzBindAddress: KUBE_PROXY_HEALTHZ,
    metricsBindAddress: KUBE_PROXY_METRICS,
    // A benchmark peer, not a node's lifeline: leave the OOM killer's choice alone.
    oomScoreAdj: 0,
    iptables: { ...sync, masqueradeAll: false, masqueradeBit: 14, localhostNodePorts: false },
    nftables: { ...sync, masqueradeAll: false, masqueradeBit: 14 },
    logging: { format: 'text', verbosity: 0 },
  });
}
