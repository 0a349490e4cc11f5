/*
 * One pod as the kubelet runs it: its namespace joined to the bridge, its cgroup under its node's
 * cgroup (so the node's BPF program balances its connects), one process per container, restarts
 * with backoff, readiness by TCP connects from the bridge, and termination with SIGTERM then
 * SIGKILL after a short grace.
 */
import type { ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { createCgroup, removeCgroupTree, treePids } from './cgroups.js';
import { messageOf } from './errors.js';
import type { HostEnv } from './host.js';
import { etcNetnsDir } from './layout.js';
import type { ContainerSpec, EnvVar } from './objects.js';
import { podHostname } from './pod-names.js';
import { createPodNetwork, deletePodNetwork, type PodLink } from './pod-network.js';
import { spawnPlaced } from './place.js';
import type { Prober } from './prober.js';
import { refOf, sleep, terminate, type ProcessRef } from './processes.js';
import type { PodPhase, PodView } from './views.js';

/** The lab keeps termination short: a demo step should not wait 30 s for a pod to go. */
const MAX_GRACE_MS = 2000;
const RESTART_BACKOFF = { firstMs: 1000, maxMs: 10_000 };
/** The readiness probe of every pod: a TCP connect to each container port, from the bridge. */
export const PROBE = { timeoutMs: 500, readyPeriodMs: 1000, startingPeriodMs: 100, failureThreshold: 3 } as const;
const POD_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface PodContext {
  readonly host: HostEnv;
  readonly bridgeNetns: string;
  /** Other clusters' pod ranges on the lab's flat network (several clusters), on-link in every pod. */
  readonly peerRanges: readonly string[];
  /** The lab's API server address, on-link in every pod, when the lab runs a control plane (lab/api-link.ts). */
  readonly apiServer?: string;
  readonly cgroupRoot: string;
  readonly podLogDir: string;
  readonly prober: Prober;
  readonly logger: Logger;
  /** Readiness, phase or processes changed: publish and persist. */
  readonly changed: () => void;
}

interface ContainerRun {
  readonly spec: ContainerSpec;
  child?: ChildProcess;
  ref?: ProcessRef;
  backoffMs: number;
  restartTimer?: NodeJS.Timeout;
}

export interface PodIdentity {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  labels: Record<string, string>;
  readonly containers: readonly ContainerSpec[];
  readonly rawSpec: Record<string, unknown>;
  readonly owner?: PodView['owner'];
  readonly templateHash?: string;
  readonly terminationGraceSeconds: number;
  readonly createdAt: string;
}

export interface PodPlacement {
  readonly node: string;
  readonly ip: string;
  readonly link: PodLink;
  readonly cgroup: string;
}

export class PodRuntime {
  phase: PodPhase = 'Pending';
  reason: string | undefined;
  serving = false;
  terminating = false;
  restarts = 0;
  placement: PodPlacement | undefined;
  private containers: ContainerRun[];
  private probeFailures = 0;
  private stopped = false;
  private termination: Promise<void> | undefined;

  constructor(
    readonly id: PodIdentity,
    private readonly ctx: PodContext,
  ) {
    this.containers = id.containers.map((spec) => ({ spec, backoffMs: RESTART_BACKOFF.firstMs }));
  }

  get key(): string {
    return `${this.id.namespace}/${this.id.name}`;
  }

  get hostname(): string {
    return podHostname(this.id.name);
  }

  processes(): ProcessRef[] {
    return this.containers.flatMap((c) => (c.ref ? [c.ref] : []));
  }

  view(): PodView {
    const p = this.placement;
    return {
      namespace: this.id.namespace,
      name: this.id.name,
      uid: this.id.uid,
      labels: this.id.labels,
      containers: this.id.containers,
      rawSpec: this.id.rawSpec,
      ...(this.id.owner ? { owner: this.id.owner } : {}),
      ...(p ? { node: p.node, ip: p.ip } : {}),
      phase: this.phase,
      ...(this.reason ? { reason: this.reason } : {}),
      serving: this.serving,
      terminating: this.terminating,
      restarts: this.restarts,
      createdAt: this.id.createdAt,
    };
  }

  /** The environment of the pod's processes, and of `lab exec` into it. */
  env(container?: ContainerSpec): NodeJS.ProcessEnv {
    const program = container?.program;
    const base: NodeJS.ProcessEnv = { PATH: POD_PATH, HOSTNAME: this.hostname, ...(program?.kind === 'node' ? program.env : {}) };
    for (const v of container?.env ?? []) base[v.name] = this.envValue(v);
    return base;
  }

  private envValue(v: EnvVar): string {
    if ('value' in v) return v.value;
    switch (v.fieldPath) {
      case 'metadata.name':
        return this.id.name;
      case 'metadata.namespace':
        return this.id.namespace;
      case 'spec.nodeName':
        return this.placement?.node ?? '';
      case 'status.podIP':
        return this.placement?.ip ?? '';
      default:
        return '';
    }
  }

  /** Builds the pod's network and cgroup, writes its hosts file, starts its containers. */
  async start(placement: PodPlacement, writeHosts: (pod: PodRuntime) => void): Promise<void> {
    this.placement = placement;
    const { host, bridgeNetns, cgroupRoot, peerRanges, apiServer } = this.ctx;
    try {
      await createPodNetwork(host.ip, bridgeNetns, { ...placement.link, peerRanges, ...(apiServer ? { apiServer } : {}) });
      createCgroup(cgroupRoot, placement.cgroup);
      mkdirSync(etcNetnsDir(placement.link.netns), { recursive: true });
      writeHosts(this);
      for (const run of this.containers) this.spawn(run);
      this.phase = 'Running';
      this.reason = undefined;
    } catch (error) {
      this.phase = 'Failed';
      this.reason = `could not start: ${messageOf(error)}`;
      this.ctx.logger.error({ pod: this.key, err: error }, 'pod start failed');
    }
    this.ctx.changed();
    if (this.phase === 'Running') void this.probeLoop();
  }

  private spawn(run: ContainerRun): void {
    const placement = this.placement;
    if (!placement || this.stopped) return;
    const program = run.spec.program;
    const argv = program.kind === 'node' ? [process.execPath, program.script] : [this.ctx.host.sleep, 'infinity'];
    const log = openSync(join(this.ctx.podLogDir, `${this.id.namespace}_${this.id.name}_${run.spec.name}.log`), 'a');
    try {
      const child = spawnPlaced(
        { sh: this.ctx.host.sh, ip: this.ctx.host.ip, cgroup: placement.cgroup, netns: placement.link.netns },
        argv,
        { env: this.env(run.spec), stdio: ['ignore', log, log] },
      );
      run.child = child;
      const ref = child.pid !== undefined ? refOf(child.pid) : undefined;
      if (ref) run.ref = ref;
      child.once('exit', (code, signal) => this.exited(run, child, code, signal));
      child.once('error', (err) => this.ctx.logger.error({ pod: this.key, container: run.spec.name, err }, 'container spawn failed'));
    } finally {
      closeSync(log);
    }
  }

  private exited(run: ContainerRun, child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (run.child !== child) return;
    delete run.child;
    delete run.ref;
    if (this.terminating || this.stopped) return;
    this.serving = false;
    this.restarts++;
    const delay = run.backoffMs;
    run.backoffMs = Math.min(run.backoffMs * 2, RESTART_BACKOFF.maxMs);
    this.reason = `CrashLoopBackOff: container ${run.spec.name} exited (${signal ?? `code ${code}`}); restarting in ${delay} ms`;
    this.ctx.logger.warn({ pod: this.key, container: run.spec.name, code, signal, restartInMs: delay }, 'container exited');
    run.restartTimer = setTimeout(() => {
      this.reason = undefined;
      this.spawn(run);
      this.ctx.changed();
    }, delay);
    this.ctx.changed();
  }

  private allRunning(): boolean {
    return this.containers.every((c) => c.child !== undefined);
  }

  private async probeLoop(): Promise<void> {
    const ports = this.id.containers.flatMap((c) => c.ports.filter((p) => p.protocol === 'TCP').map((p) => p.containerPort));
    while (!this.stopped && this.placement) {
      const ip = this.placement.ip;
      let ok = this.allRunning();
      for (const port of ports) {
        if (!ok) break;
        ok = await this.ctx.prober.probe(ip, port, PROBE.timeoutMs);
      }
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- stop() may have set it while the probes were awaited
      if (this.stopped) return;
      // A ready pod needs several failed probes to turn unready; a dead process is unready at once.
      this.probeFailures = ok ? 0 : this.probeFailures + 1;
      const serving = ok || (this.serving && this.allRunning() && this.probeFailures < PROBE.failureThreshold);
      if (serving !== this.serving) {
        this.serving = serving;
        this.ctx.changed();
      }
      await sleep(this.serving ? PROBE.readyPeriodMs : PROBE.startingPeriodMs);
    }
  }

  /**
   * For the supervisor's own shutdown: SIGKILL every container and wait until each is reaped,
   * so none is left a zombie of a parent that is about to exit. `lab down` removes the rest.
   */
  async kill(timeoutMs = 2000): Promise<void> {
    this.stopped = true;
    this.terminating = true;
    for (const run of this.containers) clearTimeout(run.restartTimer);
    const children = this.containers.flatMap((c) => (c.child ? [c.child] : []));
    const exits = children.map(
      (child) =>
        new Promise<void>((resolve) =>
          child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve()),
        ),
    );
    for (const child of children) child.kill('SIGKILL');
    await Promise.race([Promise.all(exits), sleep(timeoutMs)]);
  }

  /** Marks the pod terminating; the caller publishes that before calling finishTermination(). */
  markTerminating(): void {
    this.terminating = true;
  }

  /** SIGTERM, SIGKILL after the grace period, then the pod's cgroup, netns and hosts files go. */
  finishTermination(): Promise<void> {
    this.termination ??= this.terminate();
    return this.termination;
  }

  private async terminate(): Promise<void> {
    this.terminating = true;
    for (const run of this.containers) clearTimeout(run.restartTimer);
    const graceMs = Math.min(this.id.terminationGraceSeconds * 1000, MAX_GRACE_MS);
    const refs = this.processes();
    const exits = this.containers.flatMap((c) => (c.child ? [new Promise<void>((resolve) => c.child?.once('exit', () => resolve()))] : []));
    await terminate(refs, graceMs);
    await Promise.race([Promise.all(exits), sleep(2000)]);
    this.stopped = true;
    this.serving = false;
    const placement = this.placement;
    if (!placement) return;
    const { host, bridgeNetns, cgroupRoot } = this.ctx;
    // Anything `lab exec` left running in the pod ends with it, as in a container.
    const stragglers = treePids(cgroupRoot, placement.cgroup).flatMap((pid) => refOf(pid) ?? []);
    if (stragglers.length > 0) await terminate(stragglers, 0);
    await removeCgroupTree(cgroupRoot, placement.cgroup).catch((err: unknown) =>
      this.ctx.logger.error({ pod: this.key, err }, 'removing the pod cgroup failed'),
    );
    await deletePodNetwork(host.ip, bridgeNetns, placement.link).catch((err: unknown) =>
      this.ctx.logger.error({ pod: this.key, err }, 'removing the pod netns failed'),
    );
    rmSync(etcNetnsDir(placement.link.netns), { recursive: true, force: true });
  }

  /** Writes the pod's hosts and resolv.conf (ip netns exec mounts them over /etc). */
  writeEtc(hosts: string, resolv: string): void {
    const netns = this.placement?.link.netns;
    if (!netns || this.stopped) return;
    const dir = etcNetnsDir(netns);
    mkdirSync(dir, { recursive: true });
    for (const [name, text] of [
      ['hosts', hosts],
      ['resolv.conf', resolv],
    ] as const) {
      // Written beside the directory, not in it (ip netns exec would mount every file in it), and
      // renamed, so a curl starting now reads the old file or the new one, never half of one.
      const tmp = `${dir}.${name}.tmp`;
      writeFileSync(tmp, text);
      renameSync(tmp, join(dir, name));
    }
  }
}
