/*
 * nearby as it runs on a node: the real agent (cmd/agent.ts) loads the datapath on a cgroup of its
 * own and programs every Service; the client runs in that cgroup and dials the measured Service's
 * VIP, which exists nowhere but in the maps. The agent is fed like kube-proxy, by KubernetesSource
 * against the lab's API server with the benchmark's Services (as its ServiceAccount of deploy/),
 * or, with `file`, by FileSource over the same layout written as manifests (no control plane).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readPinnedState } from '../../../pkg/datapath/index.js';
import { isLivePid } from '../../../lab/kernel-lab/index.js';
import { type AgentRun, freePort, startAgent } from '../../kernel/agent-process.js';
import { mapSizesEnv } from './map-sizes.js';
import type { BenchCluster } from './bench-cluster.js';
import { type ConnectLab, NODE_IP } from './connect-lab.js';
import { type Layout, SERVICE_PORT, serviceVip, writeManifests } from './manifests.js';
import type { ConnectSystem, Loaded, Target } from './system.js';

/** Sum of a gauge's samples in a Prometheus text exposition. */
function gaugeSum(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

/** CPU time the process used so far, in clock ticks (utime + stime of /proc/<pid>/stat). */
function cpuTicks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return Number(fields[11]) + Number(fields[12]);
}
const TICKS_PER_SECOND = 100;

function rssMiB(pid: number): number {
  const kb = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return kb === undefined ? NaN : Math.round(Number(kb) / 1024);
}

const STATE_PREFIX = 'nearby-bench-connect-';

/** Manifest directories of crashed runs (their PID is in the name and dead). */
function removeStaleStateDirs(): void {
  for (const name of readdirSync(tmpdir())) {
    const owner = name.startsWith(STATE_PREFIX) ? Number(name.slice(STATE_PREFIX.length).split('-')[0]) : NaN;
    if (Number.isInteger(owner) && owner > 0 && !isLivePid(owner)) rmSync(join(tmpdir(), name), { recursive: true, force: true });
  }
}

/**
 * Where the agent reads the Services: the lab's API server, or manifests the benchmark writes
 * (every Service carrying `annotations`).
 */
export type NearbyFeed =
  | { readonly kind: 'api'; readonly cluster: () => BenchCluster }
  | { readonly kind: 'file'; readonly annotations?: Readonly<Record<string, string>> };

/** Which agent: its JSON prefix, and the lab nodes of its hooked cgroup and of its own process. */
export interface NearbyInstance {
  readonly name: string;
  readonly node: string;
  readonly agentNode: string;
}
const PLAIN: NearbyInstance = { name: 'nearby', node: 'nearby', agentNode: 'agent' };

/** nearby as the connect benchmark measures it, with its pin root once set up (to read its maps). */
export interface NearbySystem extends ConnectSystem {
  pinRoot(): string;
}

export function nearbySystem(layout: Layout, programTimeoutMs: number, feed: NearbyFeed, instance = PLAIN): NearbySystem {
  let agent: AgentRun | undefined;
  let stateDir: string | undefined;
  let loaded: Loaded = { services: 0, endpoints: 0 };
  const extras: Record<string, number> = {};
  let measuring = { ticks: 0, ms: 0 };
  let pinRoot: string | undefined;
  const prefix = instance.name;
  return {
    name: instance.name,
    pinRoot(): string {
      if (pinRoot === undefined) throw new Error(`${instance.name} is not set up`);
      return pinRoot;
    },
    async setup(lab: ConnectLab): Promise<Target> {
      const node = await lab.node(instance.node);
      // The agent itself runs in a lab cgroup of its own (not the hooked one): whatever way this
      // run ends, the lab's teardown, or the next run's leftover cleanup, ends it by PID.
      const agentCgroup = await lab.node(instance.agentNode);
      let sourceArgs: string[];
      let vip: string;
      if (feed.kind === 'api') {
        const cluster = feed.cluster();
        await cluster.createNode(node.nodeName, NODE_IP);
        sourceArgs = ['--kubeconfig', cluster.agentKubeconfig];
        vip = cluster.services[0]!.clusterIP;
      } else {
        removeStaleStateDirs();
        stateDir = mkdtempSync(join(tmpdir(), `${STATE_PREFIX}${process.pid}-`));
        writeManifests(stateDir, layout, node.nodeName, feed.annotations);
        sourceArgs = ['--state-dir', stateDir];
        vip = serviceVip(0);
      }
      const port = await freePort();
      const started = performance.now();
      const run = startAgent({
        args: ['--node-name', node.nodeName, ...sourceArgs, '--cgroup-path', node.cgroupPath, '--listen', `127.0.0.1:${port}`],
        env: { LOG_LEVEL: 'warn', ...mapSizesEnv(layout) },
        wrapper: ['sh', '-c', 'echo $$ > "$0/cgroup.procs" && exec "$@"', agentCgroup.cgroupPath],
      });
      agent = run;
      for (;;) {
        if (run.child.exitCode !== null)
          throw new Error(`${prefix}: nearby-agent exited (${run.child.exitCode}); log:\n${run.log().slice(-3000)}`);
        if (performance.now() - started > programTimeoutMs)
          throw new Error(
            `${prefix}: nearby-agent did not program ${layout.services} Services within ${programTimeoutMs} ms; log:\n${run.log().slice(-3000)}`,
          );
        const programmed = await fetch(`http://127.0.0.1:${port}/metrics`)
          .then(async (r) => gaugeSum(await r.text(), 'nearby_services_programmed'))
          .catch(() => 0);
        if (programmed >= layout.services) break;
        await new Promise((r) => setTimeout(r, 250));
      }
      extras[`${prefix}_program_ms`] = Math.round(performance.now() - started);
      extras[`${prefix}_agent_rss_mib`] = rssMiB(run.child.pid!);
      // What the kernel holds, read from the pins: the figures the JSON reports as loaded.
      pinRoot = node.pinRoot;
      const state = readPinnedState(node.pinRoot);
      loaded = { services: state.services.length, endpoints: state.services.reduce((n, s) => n + s.tiers.flat().length, 0) };
      measuring = { ticks: cpuTicks(run.child.pid!), ms: performance.now() };
      return { address: vip, port: SERVICE_PORT, cgroupPath: node.cgroupPath };
    },
    loaded: () => loaded,
    extras(): Record<string, number> {
      // The agent shares the machine with the clients: how busy it kept a core while they ran.
      const pid = agent?.child.pid;
      if (pid !== undefined && agent?.child.exitCode === null && measuring.ms > 0) {
        const seconds = (performance.now() - measuring.ms) / 1000;
        extras[`${prefix}_agent_cpu_percent_while_measured`] = Math.round(
          ((cpuTicks(pid) - measuring.ticks) / TICKS_PER_SECOND / seconds) * 100,
        );
      }
      return extras;
    },
    async teardown(): Promise<void> {
      await agent?.kill();
      if (stateDir) rmSync(stateDir, { recursive: true, force: true });
    },
  };
}
