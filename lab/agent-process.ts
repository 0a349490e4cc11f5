/*
 * One node's nearby-agent, run as a DaemonSet pod would be: attached to its node's cgroup only,
 * reading the lab's cluster/ directory or its API server, and restarted with backoff when it dies (as the kubelet
 * restarts a crashed pod). The agent itself runs outside the node cgroups, so its own sockets
 * are never balanced by the program it loads.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import type { Logger } from 'pino';
import { freePorts } from './free-port.js';
import { refOf, sleep, type ProcessRef } from './processes.js';
import { PROGRAMS } from './programs.js';

/**
 * The lab's map sizes (docs/nearbyctl.md, "Map sizes", shows this table; a test compares them).
 * Small next to the agent's defaults, since every node of a lab loads its own set, yet room for
 * the documented samples plus several hundred Services and a few thousand endpoints: backends are
 * one per endpoint address and port, slots one per endpoint per port and tier (a Maglev tier
 * takes 1021, docs/semantics.md), counters one per port and tier. Hash maps allocate on use, so
 * unused room costs nothing.
 */
export const LAB_MAP_SIZES = {
  services: 1024,
  backends: 16384,
  slots: 65536,
  'rev-nat': 16384,
  counters: 8192,
} as const;

/** Who runs a lab's agents: the lab, as host processes, or nearby's DaemonSet the user installs (real nodes only). */
export type LabAgents = 'process' | 'daemonset';

export type LabMapSizes = { readonly [Map in keyof typeof LAB_MAP_SIZES]: number };

/** The agent flags for map sizes; also how messages name them. */
export function mapSizeFlags(sizes: LabMapSizes): string[] {
  return Object.entries(sizes).flatMap(([map, size]) => [`--max-${map}`, String(size)]);
}
/** A CRD applied to the lab (DestinationRule) is watched within a second, not the agent's default minute. */
const CRD_CHECK_FLAGS = ['--crd-check-seconds', '1'];
const BACKOFF = { firstMs: 500, maxMs: 10_000, resetAfterMs: 20_000 };

/** Where the agent reads the cluster: the lab's cluster/ directory, or an API server. */
export type AgentSource = { readonly stateDir: string } | { readonly kubeconfig: string };

export interface AgentSpec {
  readonly node: string;
  readonly cgroup: string;
  readonly source: AgentSource;
  readonly bpffs: string;
  readonly preferClose: 'subzone' | 'zone';
  readonly mapSizes: LabMapSizes;
  /** Set when the lab is one cluster of several: the agent reads the others from remote secrets. */
  readonly clusterName?: string;
  /** Appended to by every run of the agent. */
  readonly logFile: string;
  readonly logger: Logger;
  /** Called with every (re)start and exit, to keep lab.json current. */
  readonly onProcess: (ref: (ProcessRef & { port: number }) | undefined) => void;
}

export class AgentProcess {
  ready = false;
  reason = 'starting';
  restarts = 0;
  ref: (ProcessRef & { port: number }) | undefined;
  private child: ChildProcess | undefined;
  private stopping = false;
  private backoffMs = BACKOFF.firstMs;
  private startedAt = 0;
  private pollTimer: NodeJS.Timeout | undefined;

  constructor(private readonly spec: AgentSpec) {}

  async start(): Promise<void> {
    if (this.stopping) return;
    const port = (await freePorts(1))[0]!;
    const args = [
      PROGRAMS.agent,
      '--node-name',
      this.spec.node,
      ...('stateDir' in this.spec.source ? ['--state-dir', this.spec.source.stateDir] : ['--kubeconfig', this.spec.source.kubeconfig]),
      '--cgroup-path',
      this.spec.cgroup,
      '--bpffs',
      this.spec.bpffs,
      '--listen',
      `127.0.0.1:${port}`,
      '--prefer-close',
      this.spec.preferClose,
      ...mapSizeFlags(this.spec.mapSizes),
      ...CRD_CHECK_FLAGS,
      ...(this.spec.clusterName ? ['--multi-cluster=true', '--cluster-name', this.spec.clusterName] : []),
    ];
    const log = openSync(this.spec.logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(process.execPath, args, {
        stdio: ['ignore', log, log],
        env: { PATH: process.env['PATH'] ?? '', LOG_LEVEL: 'info' },
        cwd: '/',
      });
    } finally {
      closeSync(log);
    }
    this.child = child;
    this.startedAt = Date.now();
    const ref = child.pid !== undefined ? refOf(child.pid) : undefined;
    this.ref = ref ? { ...ref, port } : undefined;
    this.spec.onProcess(this.ref);
    this.ready = false;
    this.reason = 'starting';
    this.spec.logger.info({ node: this.spec.node, pid: child.pid, port, restarts: this.restarts }, 'agent started');
    child.once('exit', (code, signal) => void this.exited(child, code, signal));
    this.schedulePoll(100);
  }

  private async exited(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): Promise<void> {
    if (this.child !== child) return;
    this.child = undefined;
    this.ready = false;
    this.ref = undefined;
    this.spec.onProcess(undefined);
    clearTimeout(this.pollTimer);
    if (this.stopping) return;
    if (Date.now() - this.startedAt > BACKOFF.resetAfterMs) this.backoffMs = BACKOFF.firstMs;
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, BACKOFF.maxMs);
    this.reason = `exited (${signal ?? `code ${code}`}); restarting in ${delay} ms; see ${this.spec.logFile}`;
    this.spec.logger.warn({ node: this.spec.node, code, signal, restartInMs: delay }, 'agent exited; restarting');
    await sleep(delay);
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- stop() may have set it during the sleep
    if (this.stopping) return;
    this.restarts++;
    await this.start().catch((err: unknown) => this.spec.logger.error({ err, node: this.spec.node }, 'agent restart failed'));
  }

  private schedulePoll(ms: number): void {
    clearTimeout(this.pollTimer);
    this.pollTimer = setTimeout(() => void this.poll(), ms);
  }

  private async poll(): Promise<void> {
    const ref = this.ref;
    if (!ref || this.stopping) return;
    try {
      const response = await fetch(`http://127.0.0.1:${ref.port}/readyz`, { signal: AbortSignal.timeout(1000) });
      const body = (await response.text()).trim();
      if (this.ref !== ref) return;
      this.ready = response.ok;
      this.reason = body;
    } catch (error) {
      if (this.ref !== ref) return;
      this.ready = false;
      this.reason = `not answering /readyz yet (${(error as Error).message})`;
    }
    this.schedulePoll(this.ready ? 1000 : 100);
  }

  /** SIGTERM, SIGKILL after graceMs; no restart afterwards. */
  async stop(graceMs = 1000): Promise<void> {
    this.stopping = true;
    clearTimeout(this.pollTimer);
    const child = this.child;
    if (child?.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await gone;
    clearTimeout(timer);
  }
}
