/*
 * kube-proxy of the lab's release as a measured system: in iptables or nftables mode, in a
 * namespace of its own beside the lab's (the same endpoint addresses on lo, its own endpoint
 * server, the same Service route), fed by the lab's API server with the benchmark's Services.
 * The client dials the measured Service's ClusterIP from a cgroup no BPF program is attached to,
 * so only kube-proxy's rules stand between it and the endpoint. Its namespace's conntrack
 * counters are reported: at tens of thousands of connects per second a full table would
 * otherwise pass for kube-proxy's cost.
 */
import { type IptablesBackend, KubeProxyPeer, type KubeProxyMode } from '../peers/index.js';
import type { BenchCluster } from './bench-cluster.js';
import { type ConnectLab, NODE_IP } from './connect-lab.js';
import { type Layout, measuredEndpoints, SERVICE_PORT, TARGET_PORT } from './manifests.js';
import { type ConnectSystem, type Loaded, NotProgrammedError, type Target } from './system.js';

/** kube-proxy's own account of its syncs so far: how many, their mean and total duration, what is pending. */
async function syncFigures(peer: KubeProxyPeer, name: string): Promise<Record<string, number>> {
  const metrics = await peer.metrics().catch(() => '');
  const figures: Record<string, number> = {};
  const syncs = sample(metrics, 'kubeproxy_sync_proxy_rules_duration_seconds_count');
  const seconds = sample(metrics, 'kubeproxy_sync_proxy_rules_duration_seconds_sum');
  if (syncs !== undefined) figures[`${name}_syncs`] = syncs;
  if (syncs && seconds !== undefined) {
    figures[`${name}_sync_ms_mean`] = Math.round((seconds / syncs) * 1000);
    figures[`${name}_sync_ms_total`] = Math.round(seconds * 1000);
  }
  for (const [metric, key] of [
    ['kubeproxy_sync_proxy_rules_service_changes_pending', 'services_pending'],
    ['kubeproxy_sync_proxy_rules_endpoint_changes_pending', 'endpoints_pending'],
  ] as const) {
    const value = sample(metrics, metric);
    if (value !== undefined) figures[`${name}_${key}`] = value;
  }
  return figures;
}

/** A sample of kube-proxy's metrics text, unlabelled or IPv4's, e.g. a histogram's _sum. */
function sample(text: string, name: string): number | undefined {
  const match = new RegExp(`^${name}(?:\\{ip_family="IPv4"\\})? (\\S+)$`, 'm').exec(text);
  return match ? Number(match[1]) : undefined;
}

interface KubeProxyPeerKind {
  readonly mode: KubeProxyMode;
  readonly iptablesBackend?: IptablesBackend;
  /** Names its lab node, namespace and Node object, which allow 20 characters with a suffix. */
  readonly short: string;
}

/**
 * The kube-proxy peers the benchmarks run, by the name that prefixes their JSON keys. iptables is
 * what a node of this distribution runs (iptables over nf_tables); iptables_legacy the same mode
 * over the legacy x_tables, as on a node whose rules are legacy.
 */
export const KUBE_PROXY_PEERS = {
  iptables: { mode: 'iptables', iptablesBackend: 'nft', short: 'ipt' },
  iptables_legacy: { mode: 'iptables', iptablesBackend: 'legacy', short: 'iptleg' },
  nftables: { mode: 'nftables', short: 'nft' },
} as const satisfies Record<string, KubeProxyPeerKind>;
export type KubeProxyPeerName = keyof typeof KUBE_PROXY_PEERS;
export const KUBE_PROXY_PEER_NAMES = Object.keys(KUBE_PROXY_PEERS) as KubeProxyPeerName[];

export function isKubeProxyPeerName(name: string): name is KubeProxyPeerName {
  return Object.hasOwn(KUBE_PROXY_PEERS, name);
}

export interface KubeProxySystemOptions {
  /** The JSON key prefix: iptables, nftables, iptables_legacy_sync0, ... */
  readonly name: string;
  readonly peer: KubeProxyPeerName;
  /** Appended to the peer's short name for its lab node and Node (a variant's: 'sync0'). */
  readonly variant?: string;
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
      const { short, ...kind } = KUBE_PROXY_PEERS[options.peer];
      const suffix = options.variant ? `${short}-${options.variant}` : short;
      const addresses = [...measuredEndpoints(options.layout), ...(options.extraAddresses ?? [])];
      const netns = await lab.peerNamespace(suffix, addresses, TARGET_PORT, options.serverThreads);
      lab.routeServices(cluster.env.cp.serviceCidr, netns);
      const nodeName = `bench-${suffix}`;
      await cluster.createNode(nodeName, NODE_IP);
      const started = performance.now();
      peer = await KubeProxyPeer.start({
        cp: cluster.env.cp,
        netns,
        ...kind,
        nodeName,
        nodeIp: NODE_IP,
        ...(options.minSyncPeriodMs === undefined ? {} : { minSyncPeriodMs: options.minSyncPeriodMs }),
        waitForSync: false,
      });
      // Its first sync comes only once its informers hold every Service and slice that existed:
      // all of the benchmark's are programmed. Past the bound that is a result, not a failure.
      try {
        await peer.waitSynced(options.programTimeoutMs);
      } catch (error) {
        if (!peer.running()) throw error;
        const waitedMs = Math.round(performance.now() - started);
        Object.assign(extras, {
          [`${name}_not_programmed_after_ms`]: waitedMs,
          [`${name}_rss_mib`]: Math.round(peer.rssBytes() / (1 << 20)),
        });
        Object.assign(extras, await syncFigures(peer, name));
        throw new NotProgrammedError(name, waitedMs, { ...extras }, { cause: error });
      }
      extras[`${name}_program_ms`] = Math.round(performance.now() - started);
      // The first sync's own duration, as kube-proxy measured it (the rest is listing and start-up).
      const first = await syncFigures(peer, name);
      if (first[`${name}_sync_ms_total`] !== undefined) extras[`${name}_first_syncs_ms`] = first[`${name}_sync_ms_total`]!;
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
        Object.assign(extras, await syncFigures(peer, name));
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
