/*
 * A real Kubernetes control plane: etcd, kube-apiserver, kube-controller-manager and kube-scheduler
 * of the pinned release, with their own CA, for the lab and the tests, on loopback or (a lab's) with
 * the apiserver at an address of its own that it publishes as default/kubernetes. There are no
 * kubelets: whoever uses it creates Node objects itself.
 *
 * Order matters both ways. Start: etcd, apiserver (until /readyz), then the two controllers.
 * Stop: scheduler, controller manager, apiserver, etcd; an apiserver whose etcd vanished first
 * hangs in shutdown for over a minute.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { LabError } from '../errors.js';
import { sleep, type ProcessRef } from '../processes.js';
import { resolveControlPlaneBinaries, type ControlPlaneBinaries } from './binaries.js';
import { ComponentProcess, type OnProcess, type StopPlan } from './component-process.js';
import { apiserverFlags, controllerManagerFlags, etcdClientUrl, etcdFlags, schedulerFlags, type Layout } from './component-flags.js';
import { ControlPlaneError, type ControlPlaneComponent } from './errors.js';
import { compactAllSeen } from './etcd-api.js';
import { freePorts } from '../free-port.js';
import { answersOk, probeTls } from './health.js';
import { runKubectl, type KubectlResult } from './kubectl.js';
import { writeKubeconfig } from './kubeconfig.js';
import { createPki } from './pki.js';
import { API_SERVER_PORT, apiServerUrl } from '../api-address.js';
import { DEFAULT_SERVICE_CIDR, firstServiceIp } from './service-cidr.js';

export interface ControlPlaneOptions {
  /** Certificates, kubeconfigs and etcd's data; created if missing, never removed by stop(). */
  readonly dir: string;
  /** One <component>.log per component, appended to across restarts. */
  readonly logDir: string;
  readonly logger: Logger;
  readonly serviceCidr?: string;
  /**
   * An address of the host the apiserver binds (on API_SERVER_PORT) and advertises, and publishes
   * as the `kubernetes` Service's endpoint; every client, the controllers too, then uses it.
   * Without it, the apiserver is on 127.0.0.1 at a free port and publishes nothing.
   */
  readonly address?: string;
  /**
   * The apiserver's watch cache; off unless asked for. With it on, watches and lists are served
   * from the apiserver's memory, which outlives etcd compaction, so compactEtcd() could not make
   * a recent resourceVersion go stale; with it off every read goes to etcd, and a stale
   * resourceVersion gets 410 Gone exactly when etcd has compacted it away (as a cache-less
   * apiserver, or one whose cache window has moved on, answers in production).
   */
  readonly watchCache?: boolean;
  readonly binaries?: ControlPlaneBinaries;
  /**
   * Resolve only once the controller manager's controllers run (default), not merely once it
   * answers /healthz. That takes about 5 s more: with --use-service-account-credentials it first
   * mints a token for each controller's ServiceAccount. Callers that only need the API can skip it.
   */
  readonly waitForControllers?: boolean;
  /** Every process started (with its ref, before it is waited on) and ended (undefined). */
  readonly onProcess?: (component: string, ref: ProcessRef | undefined) => void;
}

const START_TIMEOUT_MS: Record<ControlPlaneComponent, number> = {
  etcd: 30_000,
  // Two shared cores and a cold start: readyz took 2.2 s alone, much longer next to other tests.
  'kube-apiserver': 90_000,
  'kube-controller-manager': 60_000,
  'kube-scheduler': 60_000,
};

const STOP_PLAN: Record<ControlPlaneComponent, StopPlan> = {
  etcd: [5_000],
  // The first SIGTERM starts a graceful shutdown that waits for open watches; the second ends it.
  'kube-apiserver': [2_000, 5_000],
  'kube-controller-manager': [5_000],
  'kube-scheduler': [5_000],
};

const STOP_ORDER: readonly ControlPlaneComponent[] = ['kube-scheduler', 'kube-controller-manager', 'kube-apiserver', 'etcd'];

/**
 * Restarted when they exit on their own, as a kubelet restarts static pods: the controller
 * manager exits by design when the apiserver vanishes while a controller initialises, and an
 * outage test must not leave the cluster without controllers. etcd and the apiserver are not:
 * their crash is a failure the caller has to see.
 */
const RESTARTED: ReadonlySet<ControlPlaneComponent> = new Set(['kube-controller-manager', 'kube-scheduler']);
const RESTART_BACKOFF = { firstMs: 500, maxMs: 8_000 };

async function waitUntilAsync(condition: () => Promise<boolean>, timeoutMs: number, abort: AbortSignal): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return true;
    if (Date.now() >= deadline || abort.aborted) return false;
    await sleep(100);
  }
}

export class ControlPlane {
  /** Where the certificates, kubeconfigs and etcd data live (options.dir). */
  readonly dir: string;
  /** The apiserver's URL, https://127.0.0.1:<port> or https://<address>:6443. */
  readonly server: string;
  readonly adminKubeconfig: string;
  readonly caFile: string;
  readonly serviceCidr: string;
  private readonly running = new Map<ControlPlaneComponent, ComponentProcess>();
  private readonly lastRefs = new Map<ControlPlaneComponent, ProcessRef>();
  private readonly onProcess: OnProcess;
  /** Aborted by stop(): no more restarts, and starts in flight give up. */
  private readonly stopping = new AbortController();
  private readonly restartTimers = new Map<ControlPlaneComponent, NodeJS.Timeout>();
  private readonly restartsInFlight = new Map<ControlPlaneComponent, Promise<void>>();

  private constructor(
    private readonly options: ControlPlaneOptions,
    readonly binaries: ControlPlaneBinaries,
    private readonly layout: Layout,
    adminKubeconfig: string,
  ) {
    this.dir = options.dir;
    this.server = apiServerUrl(layout.address ?? '127.0.0.1', layout.ports.apiserver);
    this.adminKubeconfig = adminKubeconfig;
    this.caFile = layout.pki.ca.cert;
    this.serviceCidr = layout.serviceCidr;
    this.onProcess = (component, ref) => {
      if (ref) this.lastRefs.set(component, ref);
      options.onProcess?.(component, ref);
    };
  }

  static async start(options: ControlPlaneOptions): Promise<ControlPlane> {
    const started = Date.now();
    const binaries = options.binaries ?? resolveControlPlaneBinaries();
    const serviceCidr = options.serviceCidr ?? DEFAULT_SERVICE_CIDR;
    const serviceIp = firstServiceIp(serviceCidr);
    const pkiDir = join(options.dir, 'pki');
    mkdirSync(pkiDir, { recursive: true, mode: 0o700 });
    mkdirSync(options.logDir, { recursive: true });

    const [etcdClient, etcdPeer, apiserver, controllerManager, scheduler] = await freePorts(5);
    const ports = {
      etcdClient: etcdClient!,
      etcdPeer: etcdPeer!,
      apiserver: options.address ? API_SERVER_PORT : apiserver!,
      controllerManager: controllerManager!,
      scheduler: scheduler!,
    };
    const pki = await createPki(pkiDir, serviceIp, options.address);
    const server = apiServerUrl(options.address ?? '127.0.0.1', ports.apiserver);
    const kubeconfig = (name: string, userName: string, client: { cert: string; key: string }) =>
      writeKubeconfig(join(options.dir, `${name}.kubeconfig`), {
        server,
        caFile: pki.ca.cert,
        userName,
        user: { certFile: client.cert, keyFile: client.key },
      });
    const layout: Layout = {
      dir: options.dir,
      pki,
      ports,
      serviceCidr,
      ...(options.address ? { address: options.address } : {}),
      watchCache: options.watchCache ?? false,
      controllerManagerKubeconfig: kubeconfig('kube-controller-manager', 'system:kube-controller-manager', pki.controllerManagerClient),
      schedulerKubeconfig: kubeconfig('kube-scheduler', 'system:kube-scheduler', pki.schedulerClient),
    };
    const admin = kubeconfig('admin', 'nearby-lab-admin', pki.admin);
    options.logger.info({ dir: options.dir, ms: Date.now() - started }, 'control-plane certificates and kubeconfigs written');

    const controlPlane = new ControlPlane(options, binaries, layout, admin);
    try {
      await controlPlane.startComponent('etcd');
      await controlPlane.startComponent('kube-apiserver');
      const controllers = await Promise.allSettled([
        controlPlane.startComponent('kube-controller-manager'),
        controlPlane.startComponent('kube-scheduler'),
      ]);
      const failed = controllers.find((result): result is PromiseRejectedResult => result.status === 'rejected');
      if (failed) throw failed.reason;
      if (options.waitForControllers ?? true) await controlPlane.waitForControllers();
    } catch (error) {
      await controlPlane
        .stop()
        .catch((stopError: unknown) =>
          options.logger.error({ err: stopError }, 'control-plane cleanup after a failed start left something behind'),
        );
      throw error;
    }
    options.logger.info({ server, ms: Date.now() - started }, 'control plane ready');
    return controlPlane;
  }

  /**
   * The controller manager answers /healthz before it has started its controllers, which takes
   * seconds more. The `default` ServiceAccount, made by one of them, is the usual sign that they
   * run (pods cannot be created in a namespace before it has one); until then a Deployment made
   * right after start() would sit still, and an apiserver outage would make the controller
   * manager exit (it is restarted, but loses more seconds).
   */
  async waitForControllers(): Promise<void> {
    const started = Date.now();
    const component = 'kube-controller-manager';
    const adminTls = probeTls(this.caFile, this.layout.pki.admin);
    const url = `${this.server}/api/v1/namespaces/default/serviceaccounts/default`;
    const ready = await waitUntilAsync(() => answersOk(url, adminTls), START_TIMEOUT_MS[component], this.stopping.signal);
    if (!ready) {
      const logFile = this.logFile(component);
      throw new ControlPlaneError(
        'timeout',
        component,
        `no default ServiceAccount after ${START_TIMEOUT_MS[component]} ms: the controllers did not start; see ${logFile}`,
        logFile,
      );
    }
    this.options.logger.info({ ms: Date.now() - started }, 'control-plane controllers running');
  }

  private logFile(component: ControlPlaneComponent): string {
    return join(this.options.logDir, `${component}.log`);
  }

  private spec(component: ControlPlaneComponent): { binary: string; args: string[]; healthy: () => Promise<boolean> } {
    const { binaries, layout } = this;
    const { pki, ports } = layout;
    const serverTls = probeTls(pki.ca.cert);
    switch (component) {
      case 'etcd':
        return { binary: binaries.etcd, args: etcdFlags(layout), healthy: () => answersOk(`${etcdClientUrl(ports)}/health`) };
      case 'kube-apiserver': {
        const adminTls = probeTls(pki.ca.cert, pki.admin);
        return {
          binary: binaries.kubeApiserver,
          args: apiserverFlags(layout),
          healthy: () => answersOk(`${this.server}/readyz`, adminTls),
        };
      }
      case 'kube-controller-manager':
        return {
          binary: binaries.kubeControllerManager,
          args: controllerManagerFlags(layout),
          healthy: () => answersOk(`https://127.0.0.1:${ports.controllerManager}/healthz`, serverTls),
        };
      case 'kube-scheduler':
        return {
          binary: binaries.kubeScheduler,
          args: schedulerFlags(layout),
          healthy: () => answersOk(`https://127.0.0.1:${ports.scheduler}/healthz`, serverTls),
        };
    }
  }

  private async startComponent(component: ControlPlaneComponent): Promise<void> {
    const current = this.running.get(component);
    if (current?.isRunning()) throw new LabError('usage', `${component} is already running (pid ${current.ref.pid})`);
    const started = await ComponentProcess.start({
      component,
      ...this.spec(component),
      logFile: this.logFile(component),
      cwd: this.options.dir,
      startTimeoutMs: START_TIMEOUT_MS[component],
      logger: this.options.logger,
      onProcess: this.onProcess,
      abort: this.stopping.signal,
      ...(RESTARTED.has(component) ? { onUnexpectedExit: () => this.scheduleRestart(component, 0) } : {}),
    });
    this.running.set(component, started);
  }

  private scheduleRestart(component: ControlPlaneComponent, attempt: number): void {
    if (this.stopping.signal.aborted) return;
    const delayMs = Math.min(RESTART_BACKOFF.firstMs * 2 ** attempt, RESTART_BACKOFF.maxMs);
    const { logger } = this.options;
    this.restartTimers.set(
      component,
      setTimeout(() => {
        this.restartTimers.delete(component);
        const restart = this.startComponent(component).then(
          () => logger.warn({ component, attempt }, 'control-plane component restarted'),
          (error: unknown) => {
            if (this.stopping.signal.aborted) return;
            logger.warn({ component, attempt, err: error }, 'control-plane component restart failed; trying again');
            this.scheduleRestart(component, attempt + 1);
          },
        );
        this.restartsInFlight.set(
          component,
          restart.finally(() => this.restartsInFlight.delete(component)),
        );
      }, delayMs),
    );
  }

  private async stopComponent(component: ControlPlaneComponent): Promise<void> {
    const target = this.running.get(component);
    if (!target) return;
    await target.stop(STOP_PLAN[component]);
    this.running.delete(component);
  }

  /** Every component's most recent process, running or not: what a caller checks after stop(). */
  refs(): Partial<Record<ControlPlaneComponent, ProcessRef>> {
    return Object.fromEntries(this.lastRefs);
  }

  /** kubectl as the cluster admin (system:masters); a non-zero exit is returned, not thrown. */
  kubectl(args: readonly string[], input?: string): Promise<KubectlResult> {
    return runKubectl(
      { binary: this.binaries.kubectl, kubeconfig: this.adminKubeconfig, cacheDir: join(this.options.dir, 'kubectl-cache') },
      args,
      input,
    );
  }

  /** An apiserver outage: etcd and the controllers keep running and keep their state. */
  async stopApiServer(): Promise<void> {
    await this.stopComponent('kube-apiserver');
  }

  /** The apiserver again, on the same port with the same flags, resolved once /readyz answers. */
  async startApiServer(): Promise<void> {
    if (!this.running.get('etcd')?.isRunning()) {
      throw new ControlPlaneError('usage', 'kube-apiserver', 'cannot start the apiserver: etcd is not running', this.logFile('etcd'));
    }
    await this.startComponent('kube-apiserver');
  }

  /**
   * Compacts etcd past every revision that existed before the call, so every resourceVersion a
   * client has seen answers 410 Gone (with the default watchCache: false; a watch cache keeps
   * serving what it holds). Returns the revision compacted to.
   */
  async compactEtcd(): Promise<number> {
    const revision = await compactAllSeen(etcdClientUrl(this.layout.ports));
    this.options.logger.info({ revision }, 'etcd compacted');
    return revision;
  }

  /** Stops every component in the safe order; throws (after trying them all) if any survived. */
  async stop(): Promise<void> {
    const started = Date.now();
    this.stopping.abort();
    for (const timer of this.restartTimers.values()) clearTimeout(timer);
    this.restartTimers.clear();
    await Promise.all(this.restartsInFlight.values());
    const failures: string[] = [];
    for (const component of STOP_ORDER) {
      try {
        await this.stopComponent(component);
      } catch (error) {
        failures.push((error as Error).message);
      }
    }
    if (failures.length > 0) throw new LabError('leftovers', `control plane did not stop cleanly: ${failures.join('; ')}`);
    this.options.logger.info({ ms: Date.now() - started }, 'control plane stopped');
  }
}
