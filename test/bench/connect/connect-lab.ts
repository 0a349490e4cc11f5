/*
 * Where the connect benchmark runs: one kernel lab (a network namespace with only lo and no route
 * out, a cgroup subtree, both named by this PID so a crashed run's are removed by the next), the
 * endpoint addresses on its lo, and the C endpoint server answering on all of them. Clients run
 * in a cgroup of the system being measured, inside the lab's namespace, or inside a peer
 * namespace of the same shape (kube-proxy programs a namespace of its own, so it gets one: the
 * same endpoint addresses on lo, its own endpoint server, the same route for the Service CIDR).
 */
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { KernelLab, type SimNode } from '../../../lab/kernel-lab/index.js';
import { benchProgram } from '../c-programs.js';

const execFileAsync = promisify(execFile);

/** The address every namespace of the lab has on lo, the source of connects to Service VIPs. */
export const NODE_IP = '10.250.0.1';

/** What connect-client prints. */
export interface ClientResult {
  readonly cycles: number;
  readonly failures: number;
  readonly first_errno: number;
  readonly p50_ns: number;
  readonly p99_ns: number;
  readonly mean_ns: number;
  readonly per_second: number;
}

/** Where a client runs: a cgroup of a system, in a namespace of the lab. */
export interface Placement {
  readonly cgroupPath: string;
  /** Default: the lab's own namespace. */
  readonly netns?: string;
}

/** Runs argv inside `cgroupPath` and `netns`: the shell joins the cgroup, then execs. */
function inLab(cgroupPath: string, netns: string, argv: readonly string[]): [string, string[]] {
  return ['sh', ['-c', 'echo $$ > "$0/cgroup.procs" && ns=$1 && shift && exec ip netns exec "$ns" "$@"', cgroupPath, netns, ...argv]];
}

export class ConnectLab {
  private readonly servers: ChildProcess[] = [];
  private readonly addresses = new Set<string>();
  private readonly peerNetns: string[] = [];
  private serversCgroup: Promise<SimNode> | undefined;

  private constructor(readonly lab: KernelLab) {}

  static async create(): Promise<ConnectLab> {
    const lab = new ConnectLab(await KernelLab.create('connect'));
    lab.addAddress(NODE_IP);
    return lab;
  }

  get netns(): string {
    return this.lab.netns;
  }

  /** A cgroup of its own (a lab node: also a node name and a pin root for an agent). */
  node(name: string): Promise<SimNode> {
    return this.lab.addNode(name);
  }

  addAddress(address: string, netns = this.lab.netns): void {
    const key = `${netns} ${address}`;
    if (this.addresses.has(key)) return;
    execFileSync('ip', ['-n', netns, 'addr', 'add', `${address}/32`, 'dev', 'lo']);
    this.addresses.add(key);
  }

  /**
   * A route for the Service CIDR on lo, from NODE_IP: kube-proxy rewrites after routing and needs
   * one; every namespace gets it, so no system is measured on a different routing table.
   */
  routeServices(serviceCidr: string, netns = this.lab.netns): void {
    execFileSync('ip', ['-n', netns, 'route', 'add', serviceCidr, 'dev', 'lo', 'src', NODE_IP]);
  }

  /**
   * A namespace beside the lab's, named after it (so leftovers of a crashed run are recognised by
   * the PID in the name), with lo up, NODE_IP and `addresses` on lo, and an endpoint server.
   */
  async peerNamespace(suffix: string, addresses: readonly string[], port: number, threads: number): Promise<string> {
    const netns = `${this.lab.netns}-${suffix}`;
    execFileSync('ip', ['netns', 'add', netns]);
    this.peerNetns.push(netns);
    execFileSync('ip', ['-n', netns, 'link', 'set', 'lo', 'up']);
    for (const address of [NODE_IP, ...addresses]) this.addAddress(address, netns);
    await this.startServer(port, threads, netns);
    return netns;
  }

  /** The endpoint server on `port` of every address of `netns`, in a cgroup no system hooks. */
  async startServer(port: number, threads: number, netns = this.lab.netns): Promise<void> {
    this.serversCgroup ??= this.node('servers');
    const cgroup = await this.serversCgroup;
    const [cmd, args] = inLab(cgroup.cgroupPath, netns, [benchProgram('endpoint-server'), String(port), String(threads)]);
    const server = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    this.servers.push(server);
    await new Promise<void>((resolve, reject) => {
      server.stdout.once('data', () => resolve());
      server.once('exit', (code) => reject(new Error(`endpoint-server exited (${code}) before it was ready`)));
    });
  }

  /** A long-running process placed like a client (a prober); the caller ends it by its PID. */
  spawnPlaced(placement: Placement, argv: readonly string[]): ChildProcess {
    const [cmd, args] = inLab(placement.cgroupPath, placement.netns ?? this.lab.netns, argv);
    return spawn(cmd, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  }

  async connect(target: { address: string; port: number } & Placement, count: number, seconds: number): Promise<ClientResult> {
    const argv = [benchProgram('connect-client'), target.address, String(target.port), String(count), String(seconds)];
    const [cmd, args] = inLab(target.cgroupPath, target.netns ?? this.lab.netns, argv);
    try {
      const { stdout } = await execFileAsync(cmd, args, { timeout: (seconds + 60) * 1000, maxBuffer: 1 << 20 });
      return JSON.parse(stdout.trim()) as ClientResult;
    } catch (err) {
      // connect-client exits 1 when no cycle succeeded; its JSON still says why.
      const out = (err as { stdout?: string }).stdout?.trim();
      if (out) return JSON.parse(out) as ClientResult;
      throw err;
    }
  }

  /** Ends the servers by their PIDs, then the peer namespaces, then everything of the lab. */
  async destroy(): Promise<void> {
    for (const server of this.servers) {
      if (server.exitCode === null && server.signalCode === null) {
        const exited = new Promise((resolve) => server.once('exit', resolve));
        server.kill('SIGKILL');
        await exited;
      }
    }
    for (const netns of this.peerNetns) {
      try {
        execFileSync('ip', ['netns', 'delete', netns]);
      } catch {
        // already gone
      }
    }
    await this.lab.destroy();
  }
}
