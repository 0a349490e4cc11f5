/*
 * Where the connect benchmark runs: one kernel lab (a network namespace with only lo and no route
 * out, a cgroup subtree, both named by this PID so a crashed run's are removed by the next), the
 * endpoint addresses on its lo, and the C endpoint server answering on all of them. Clients run
 * in a cgroup of the system being measured, inside the lab's namespace.
 */
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { KernelLab, type SimNode } from '../../../lab/kernel-lab/index.js';
import { benchProgram } from '../c-programs.js';

const execFileAsync = promisify(execFile);

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

/** Runs argv inside `cgroupPath` and the lab's netns: the shell joins the cgroup, then execs. */
function inLab(cgroupPath: string, netns: string, argv: readonly string[]): [string, string[]] {
  return ['sh', ['-c', 'echo $$ > "$0/cgroup.procs" && ns=$1 && shift && exec ip netns exec "$ns" "$@"', cgroupPath, netns, ...argv]];
}

export class ConnectLab {
  private server: ChildProcess | undefined;
  private readonly addresses = new Set<string>();

  private constructor(readonly lab: KernelLab) {}

  static async create(): Promise<ConnectLab> {
    return new ConnectLab(await KernelLab.create('connect'));
  }

  /** A cgroup of its own (a lab node: also a node name and a pin root for an agent). */
  node(name: string): Promise<SimNode> {
    return this.lab.addNode(name);
  }

  addAddress(address: string): void {
    if (this.addresses.has(address)) return;
    execFileSync('ip', ['-n', this.lab.netns, 'addr', 'add', `${address}/32`, 'dev', 'lo']);
    this.addresses.add(address);
  }

  /** The endpoint server on `port` of every address, in a cgroup no system hooks. */
  async startServer(port: number, threads: number): Promise<void> {
    const cgroup = await this.node('servers');
    const [cmd, args] = inLab(cgroup.cgroupPath, this.lab.netns, [benchProgram('endpoint-server'), String(port), String(threads)]);
    const server = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.stdout.once('data', () => resolve());
      server.once('exit', (code) => reject(new Error(`endpoint-server exited (${code}) before it was ready`)));
    });
  }

  async connect(target: { address: string; port: number; cgroupPath: string }, count: number, seconds: number): Promise<ClientResult> {
    const argv = [benchProgram('connect-client'), target.address, String(target.port), String(count), String(seconds)];
    const [cmd, args] = inLab(target.cgroupPath, this.lab.netns, argv);
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

  /** Ends the server by its PID, then everything of the lab (processes, pins, cgroups, netns). */
  async destroy(): Promise<void> {
    const server = this.server;
    if (server?.exitCode === null && server.signalCode === null) {
      const exited = new Promise((resolve) => server.once('exit', resolve));
      server.kill('SIGKILL');
      await exited;
    }
    await this.lab.destroy();
  }
}
