/*
 * kube-proxy as a benchmark peer: the real binary of the lab's release (make kube-proxy), in
 * iptables mode (over the system's nf_tables iptables, or the legacy one: iptables-backend.ts) or
 * nftables mode, inside a network namespace the caller made and programming only
 * that namespace (which needs a route covering the Service CIDR), fed by the lab's API server through an API bridge (the namespace keeps no route
 * out), as its own ServiceAccount with kube-proxy's RBAC, for a Node the caller created.
 *
 *   const peer = await KubeProxyPeer.start({ cp, netns, mode: 'nftables', nodeName, nodeIp });
 *   // start() resolves once kube-proxy has synced every Service it listed
 *   ... connect to VIPs from inside `netns` ...
 *   const drops = await peer.conntrackStats();
 *   await peer.stop();   // ends it by PID, removes its rules, checks none remain
 *
 * Its healthz and metrics listen on 127.0.0.1 inside the namespace and are read through nsenter.
 * nf_conntrack_max is left as it is (maxPerCore 0): it is global and only the initial namespace
 * may write it; conntrackStats() reports the namespace's drops so a run can show it did not
 * overflow. Crashed runs' peers are found by peerLeftovers() (peer-records.ts).
 */
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ControlPlane } from '../../../lab/control-plane/index.js';
import { kernelEnv, netnsPath, run } from '../../../lab/kernel-lab/index.js';
import { refOf, sleep, terminate, type ProcessRef } from '../../../lab/processes.js';
import { openApiBridge, type ApiBridge } from './api-bridge.js';
import { kubeProxyConfig, KUBE_PROXY_HEALTHZ, KUBE_PROXY_METRICS, type KubeProxyMode } from './kube-proxy-config.js';
import { resolveKubeProxyBinary } from './kube-proxy-binary.js';
import { kubeProxyIdentity } from './kube-proxy-identity.js';
import { iptablesEnvPrefix, type IptablesBackend } from './iptables-backend.js';
import { spawnInNetns, type NetnsProcess } from './netns-process.js';
import { newPeerDir, writePeerRecord } from './peer-records.js';

export interface KubeProxyPeerOptions {
  readonly cp: ControlPlane;
  /** Made by the caller; kube-proxy programs this namespace and nothing else. */
  readonly netns: string;
  readonly mode: KubeProxyMode;
  /** iptables mode only: the system's iptables (nf_tables here, the default) or the legacy one. */
  readonly iptablesBackend?: IptablesBackend;
  /** A Node the caller created; kube-proxy runs as that node (hostnameOverride). */
  readonly nodeName: string;
  /** That node's address in `netns`. */
  readonly nodeIp: string;
  /** kube-proxy's default is 1000; 0 is its fastest (a sync per change). */
  readonly minSyncPeriodMs?: number;
  /** Default true: start() resolves only once kube-proxy has synced. */
  readonly waitForSync?: boolean;
  readonly syncTimeoutMs?: number;
}

export interface KubeProxySync {
  /** kubeproxy_sync_proxy_rules_last_timestamp_seconds, as ms since the epoch. */
  readonly lastSyncMs: number;
  readonly servicesPending: number;
  readonly endpointsPending: number;
}

/** Per-namespace conntrack counters (/proc/net/stat/nf_conntrack summed over CPUs). */
export interface ConntrackStats {
  readonly entries: number;
  /** nf_conntrack_max: global, the same in every namespace. */
  readonly max: number;
  readonly drop: number;
  readonly earlyDrop: number;
  readonly insertFailed: number;
  readonly invalid: number;
}

const SYNC_TIMEOUT_MS = 60_000;
/** Chains and tables kube-proxy creates, in iptables-save and in `nft list ruleset`. */
const KUBE_PROXY_RULE = /KUBE-|table (ip|ip6|inet) kube-proxy/;

function metricValue(text: string, name: string): number | undefined {
  const match = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
  return match ? Number(match[1]) : undefined;
}

/**
 * kube-proxy DNATs in netfilter, after the kernel routed the connect: without a route covering
 * the Service CIDR (a node's default route, here one toward the endpoints' namespace) connects to
 * a VIP fail with ENETUNREACH before any rule sees them. Said up front rather than measured as
 * failures.
 */
async function assertServiceRoute(netns: string, serviceCidr: string): Promise<void> {
  const vip = serviceCidr.split('/')[0]!.replace(/\.0$/, '.1');
  try {
    await run(kernelEnv().ip, ['-n', netns, 'route', 'get', vip]);
  } catch (error) {
    throw new Error(
      `netns ${netns} has no route to the Service CIDR ${serviceCidr}; kube-proxy needs one (add it toward the endpoints' namespace)`,
      {
        cause: error,
      },
    );
  }
}

export class KubeProxyPeer {
  private stopped = false;

  private constructor(
    readonly options: KubeProxyPeerOptions,
    readonly dir: string,
    readonly binary: string,
    /** Runs kube-proxy and every tool in its namespace with its iptables backend first on PATH. */
    private readonly envPrefix: readonly string[],
    private readonly bridge: ApiBridge,
    private readonly process: NetnsProcess,
  ) {}

  get pid(): number {
    return this.process.ref.pid;
  }

  /** kube-proxy's PID and start time, for checking from outside that it is gone. */
  get ref(): ProcessRef {
    return this.process.ref;
  }

  /**
   * kube-proxy's children now (an iptables-restore mid-sync): ending kube-proxy does not end them,
   * and at 10,000 Services a first iptables-restore outlived kube-proxy by many minutes.
   */
  private children(): ProcessRef[] {
    try {
      return readdirSync(`/proc/${this.pid}/task`).flatMap((task) =>
        readFileSync(`/proc/${this.pid}/task/${task}/children`, 'utf8')
          .split(' ')
          .filter((pid) => pid.trim() !== '')
          .flatMap((pid) => refOf(Number(pid)) ?? []),
      );
    } catch {
      return [];
    }
  }

  /** Whether kube-proxy is still running (it has neither exited nor been killed). */
  running(): boolean {
    return this.process.child.exitCode === null && this.process.child.signalCode === null;
  }

  get logFile(): string {
    return join(this.dir, 'kube-proxy.log');
  }

  static async start(options: KubeProxyPeerOptions): Promise<KubeProxyPeer> {
    const binary = resolveKubeProxyBinary().path;
    const { ip } = kernelEnv();
    await run(ip, ['-n', options.netns, 'link', 'set', 'lo', 'up']);
    await assertServiceRoute(options.netns, options.cp.serviceCidr);
    const dir = newPeerDir(`kube-proxy-${options.mode}${options.iptablesBackend === 'legacy' ? '-legacy' : ''}`);
    const owner = refOf(process.pid)!;
    const record = (processes: NetnsProcess[]) =>
      writePeerRecord(dir, { owner, netns: options.netns, processes: processes.map((p) => p.ref) });
    record([]);
    let bridge: ApiBridge;
    try {
      bridge = await openApiBridge(options.netns, options.cp.server, dir);
    } catch (error) {
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
    record([bridge.inner]);
    let kubeProxy: NetnsProcess | undefined;
    try {
      const kubeconfig = await kubeProxyIdentity(options.cp, join(dir, 'kubeconfig'), bridge.server);
      const config = join(dir, 'config.yaml');
      writeFileSync(config, kubeProxyConfig({ ...options, kubeconfig }));
      const envPrefix = iptablesEnvPrefix(options.iptablesBackend ?? 'nft', dir);
      kubeProxy = await spawnInNetns({
        netns: options.netns,
        argv: [...envPrefix, binary, `--config=${config}`],
        logFile: join(dir, 'kube-proxy.log'),
      });
      record([bridge.inner, kubeProxy]);
      const peer = new KubeProxyPeer(options, dir, binary, envPrefix, bridge, kubeProxy);
      if (options.waitForSync ?? true) await peer.waitSynced(options.syncTimeoutMs ?? SYNC_TIMEOUT_MS);
      return peer;
    } catch (error) {
      const tail = (() => {
        try {
          return readFileSync(join(dir, 'kube-proxy.log'), 'utf8').slice(-3000);
        } catch {
          return '';
        }
      })();
      await kubeProxy?.stop(0);
      await bridge.close();
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`kube-proxy ${options.mode} in ${options.netns} did not start: ${(error as Error).message}\n${tail}`, {
        cause: error,
      });
    }
  }

  /** Runs a tool inside the peer's namespace. */
  private inNetns(argv: readonly string[], timeoutMs = 10_000): Promise<string> {
    return run(kernelEnv().nsenter, [`--net=${netnsPath(this.options.netns)}`, '--', ...this.envPrefix, ...argv], { timeoutMs }).then(
      (r) => r.stdout,
    );
  }

  /** kube-proxy's Prometheus metrics, as text. */
  async metrics(): Promise<string> {
    return this.inNetns(['curl', '-sf', '-m', '2', `http://${KUBE_PROXY_METRICS}/metrics`]);
  }

  /** Whether /healthz answers 200 (kube-proxy has synced recently enough). */
  async healthy(): Promise<boolean> {
    try {
      await this.inNetns(['curl', '-sf', '-m', '2', `http://${KUBE_PROXY_HEALTHZ}/healthz`]);
      return true;
    } catch {
      return false;
    }
  }

  async syncState(): Promise<KubeProxySync | undefined> {
    let text: string;
    try {
      text = await this.metrics();
    } catch {
      return undefined;
    }
    const last = metricValue(text, 'kubeproxy_sync_proxy_rules_last_timestamp_seconds');
    if (last === undefined) return undefined;
    return {
      lastSyncMs: last * 1000,
      servicesPending: metricValue(text, 'kubeproxy_sync_proxy_rules_service_changes_pending') ?? 0,
      endpointsPending: metricValue(text, 'kubeproxy_sync_proxy_rules_endpoint_changes_pending') ?? 0,
    };
  }

  /**
   * Until kube-proxy has written its rules after `afterMs` (default: ever) with no change pending.
   * kube-proxy writes nothing before its informers hold every Service and EndpointSlice, so the
   * first sync covers all that existed when it started.
   */
  async waitSynced(timeoutMs = SYNC_TIMEOUT_MS, afterMs = 0): Promise<KubeProxySync> {
    const deadline = Date.now() + timeoutMs;
    let last: KubeProxySync | undefined;
    for (;;) {
      if (this.process.child.exitCode !== null || this.process.child.signalCode !== null) {
        throw new Error(`kube-proxy (pid ${this.pid}) exited; log: ${this.logFile}`);
      }
      last = await this.syncState();
      if (last && last.lastSyncMs > afterMs && last.servicesPending === 0 && last.endpointsPending === 0) return last;
      if (Date.now() >= deadline)
        throw new Error(`kube-proxy not synced within ${timeoutMs} ms (last ${JSON.stringify(last)}); log: ${this.logFile}`);
      await sleep(200);
    }
  }

  async conntrackStats(): Promise<ConntrackStats> {
    // /proc/<pid>/net is the net namespace of that process: kube-proxy's, without a subprocess.
    const [header, ...rows] = readFileSync(`/proc/${this.pid}/net/stat/nf_conntrack`, 'utf8').trim().split('\n');
    const names = header!.trim().split(/\s+/);
    const sum = (name: string): number => {
      const column = names.indexOf(name);
      return column < 0 ? 0 : rows.reduce((total, row) => total + parseInt(row.trim().split(/\s+/)[column] ?? '0', 16), 0);
    };
    const max = Number(readFileSync('/proc/sys/net/netfilter/nf_conntrack_max', 'utf8').trim());
    const entries = Number((await this.inNetns(['cat', '/proc/sys/net/netfilter/nf_conntrack_count'])).trim());
    return { entries, max, drop: sum('drop'), earlyDrop: sum('early_drop'), insertFailed: sum('insert_failed'), invalid: sum('invalid') };
  }

  /** Resident memory of kube-proxy, bytes. */
  rssBytes(): number {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${this.pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : 0;
  }

  /** kube-proxy's rules and chains still in the namespace (iptables-save, ip6tables-save, nft), one line each. */
  async rulesLeft(): Promise<string[]> {
    const dumps = await Promise.all([['iptables-save'], ['ip6tables-save'], ['nft', 'list', 'ruleset']].map((argv) => this.inNetns(argv)));
    return dumps
      .join('\n')
      .split('\n')
      .filter((line) => KUBE_PROXY_RULE.test(line));
  }

  /**
   * --cleanup keeps KUBE-FIREWALL (filter INPUT/OUTPUT), which it shares with the kubelet on a
   * real node; here nothing else owns it, so it goes too. Each step may find nothing to remove.
   */
  private async removeFirewallChain(): Promise<void> {
    const steps = ['iptables', 'ip6tables'].flatMap((tool) => [
      [tool, '-w', '-D', 'INPUT', '-j', 'KUBE-FIREWALL'],
      [tool, '-w', '-D', 'OUTPUT', '-j', 'KUBE-FIREWALL'],
      [tool, '-w', '-F', 'KUBE-FIREWALL'],
      [tool, '-w', '-X', 'KUBE-FIREWALL'],
    ]);
    for (const step of steps) await this.inNetns(step).catch(() => undefined);
  }

  /**
   * Ends kube-proxy by PID, then `kube-proxy --cleanup` in the namespace (kube-proxy leaves its
   * rules on SIGTERM by design, so a restart keeps serving) and KUBE-FIREWALL, and throws if any
   * rule of kube-proxy remains.
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    try {
      const children = this.children();
      await this.process.stop();
      await terminate(children, 0);
      await this.inNetns([this.binary, '--cleanup'], 30_000);
      await this.removeFirewallChain();
      const left = await this.rulesLeft();
      if (left.length > 0)
        throw new Error(`kube-proxy --cleanup left ${left.length} rules in ${this.options.netns}: ${left.slice(0, 5).join(' | ')}`);
    } finally {
      await this.bridge.close();
      rmSync(this.dir, { recursive: true, force: true });
    }
  }
}
