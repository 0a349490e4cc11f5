/*
 * kube-proxy of the lab's release as a measured system: in iptables or nftables mode, in a
 * namespace of its own beside the lab's (the same endpoint addresses on lo, its own endpoint
 * server, the same Service route), fed by the lab's API server with the benchmark's Services.
 * The client dials the measured Service's ClusterIP from a cgroup no BPF program is attached to,
 * so only kube-proxy's rules stand between it and the endpoint. Its namespace's conntrack
 * counters are reported: at tens of thousands of connects per second a full table would
 * otherwise pass for kube-proxy's cost.
 */
import { KubeProxyPeer, type KubeProxyMode } from '../peers/index.js';
import type { BenchCluster } from './bench-cluster.js';
import { type ConnectLab, NODE_IP } from './connect-lab.js';
import { type Layout, measuredEndpoints, SERVICE_PORT, TARGET_PORT } from './manifests.js';
import type { ConnectSystem, Loaded, Target } from './system.js';

/** A sample of kube-proxy's metrics text, unlabelled or IPv4's, e.g. a histogram's _sum. */
function sample(text: string, name: string): number | undefined {
  const match = new RegExp(`^${name}(?:\\{ip_family="IPv4"\\})? (\\S+)$`, 'm').exec(text);
  return match ? Number(match[1]) : undefined;
}

export interface KubeProxySystemOptions {
  /** The JSON key prefix and the namespace's suffix: iptables, nftables, iptables_sync0, ... */
  readonly name: string;
  readonly mode: KubeProxyMode;
  /** kube-proxy's default (1000 ms) when unset. */
  readonly minSyncPeriodMs?: number;
  readonly layout: Layout;
  readonly cluster: () => BenchCluster;
  readonly serverThreads: number;
  readonly programTimeoutMs: number;
  /** Endpoints beyond the measured Service's that must answer in the namespace (the probe's). */
  readonly extraAddresses?: readonly string[];
}

export interface KubeProxySystem extends ConnectSystem {
  /** Once set up: the peer, for the programming benchmark's probes. */
  peer(): KubeProxyPeer | undefined;
}

export function kubeProxySystem(options: KubeProxySystemOptions): KubeProxySystem {
  const { name } = options;
  let peer: KubeProxyPeer | undefined;
  let loaded: Loaded = { services: 0, endpoints: 0 };
  const extras: Record<string, number> = {};
  return {
    name,
    peer: () => peer,
    async setup(lab: ConnectLab): Promise<Target> {
      const cluster = options.cluster();
      const suffix = name.replace(/_/g, '-');
      const addresses = [...measuredEndpoints(options.layout), ...(options.extraAddresses ?? [])];
      const netns = await lab.peerNamespace(suffix, addresses, TARGET_PORT, options.serverThreads);
      lab.routeServices(cluster.env.cp.serviceCidr, netns);
      const nodeName = `bench-${suffix}`;
      await cluster.createNode(nodeName, NODE_IP);
      const started = performance.now();
      peer = await KubeProxyPeer.start({
        cp: cluster.env.cp,
        netns,
        mode: options.mode,
        nodeName,
        nodeIp: NODE_IP,
        ...(options.minSyncPeriodMs === undefined ? {} : { minSyncPeriodMs: options.minSyncPeriodMs }),
        syncTimeoutMs: options.programTimeoutMs,
      });
      // start() resolves at kube-proxy's first sync, which it makes only once its informers hold
      // every Service and slice that existed: all of the benchmark's are programmed.
      extras[`${name}_program_ms`] = Math.round(performance.now() - started);
      extras[`${name}_rss_mib`] = Math.round(peer.rssBytes() / (1 << 20));
      loaded = { services: cluster.services.length, endpoints: cluster.endpoints };
      const cgroup = await lab.node(suffix);
      return { address: cluster.services[0]!.clusterIP, port: SERVICE_PORT, cgroupPath: cgroup.cgroupPath, netns };
    },
    loaded: () => loaded,
    async extras(): Promise<Record<string, number>> {
      if (peer) {
        const conntrack = await peer.conntrackStats();
        Object.assign(extras, {
          [`${name}_conntrack_drop`]: conntrack.drop,
          [`${name}_conntrack_early_drop`]: conntrack.earlyDrop,
          [`${name}_conntrack_insert_failed`]: conntrack.insertFailed,
          [`${name}_conntrack_entries`]: conntrack.entries,
          [`${name}_conntrack_max`]: conntrack.max,
          [`${name}_rss_mib_after`]: Math.round(peer.rssBytes() / (1 << 20)),
        });
        // kube-proxy's own account of its syncs: what a change waits for once it is delivered.
        const metrics = await peer.metrics().catch(() => '');
        const syncs = sample(metrics, 'kubeproxy_sync_proxy_rules_duration_seconds_count');
        const seconds = sample(metrics, 'kubeproxy_sync_proxy_rules_duration_seconds_sum');
        if (syncs && seconds !== undefined)
          Object.assign(extras, { [`${name}_syncs`]: syncs, [`${name}_sync_ms_mean`]: Math.round((seconds / syncs) * 1000) });
      }
      return extras;
    },
    async teardown(): Promise<void> {
      const running = peer;
      peer = undefined;
      await running?.stop();
    },
  };
}
