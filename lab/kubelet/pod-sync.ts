/*
 * The kubelet half of the lab on a real control plane: it runs the pods the scheduler binds to
 * the lab's nodes, reports their status (podIP, Ready) so the EndpointSlice controller makes
 * them endpoints, and ends pods the API server deletes: SIGTERM, grace, then the final delete,
 * as a kubelet confirms a graceful deletion. Level-triggered: every pass compares the API's pods
 * with the running ones, whatever event woke it.
 */
import { join } from 'node:path';
import {
  makeInformer,
  type Informer,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  type ObjectCache,
} from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { messageOf } from '../errors.js';
import type { NodeAddresses } from '../ipam.js';
import { podCgroupDirName, podNetnsName } from '../layout.js';
import { PodRuntime, type PodContext } from '../pod-runtime.js';
import type { PodView, ServiceView } from '../views.js';
import { podIdentity, podKey, type ApiPod } from './api-pod.js';
import { apiStatusFingerprint, podStatusPatch, statusFingerprint } from './pod-status.js';
import { MERGE_PATCH, type ApiRest } from './rest.js';
import { SerialPasses } from '../serial-passes.js';
import { serviceView, type ApiService } from './api-service.js';

export interface KubeletNode {
  readonly cgroup: string;
  readonly addresses: NodeAddresses;
}

export interface PodSyncOptions {
  readonly kc: KubeConfig;
  readonly rest: ApiRest;
  readonly lab: string;
  readonly nodes: ReadonlyMap<string, KubeletNode>;
  readonly context: Omit<PodContext, 'changed'>;
  readonly logger: Logger;
  /** Pods, their processes or the Services changed: persist the record, rewrite hosts files. */
  readonly changed: () => void;
  /** Writes a starting pod's hosts file, before its containers run. */
  readonly writeEtc: (pod: PodRuntime) => void;
}

interface Running {
  readonly runtime: PodRuntime;
  readonly startedAt: string;
  /** What was last sent, and the pod's resourceVersion then: until the cache moves past it, the patch is in flight. */
  reported?: { readonly status: string; readonly resourceVersion: string };
  ending?: Promise<void>;
}

type Cached<T extends KubernetesObject> = Informer<T> & ObjectCache<T>;

const RETRY_MS = 1000;

export class PodSync {
  private readonly running = new Map<string, Running>();
  /** API pods that cannot run here, with why: reported Failed once. */
  private readonly refused = new Map<string, string>();
  private podInformer: Cached<KubernetesObject> | undefined;
  private serviceInformer: Cached<KubernetesObject> | undefined;
  private seq = 0;
  private readonly passes = new SerialPasses(
    () => this.pass(),
    (err: unknown) => {
      this.options.logger.error({ err }, 'kubelet pass failed; retrying');
      clearTimeout(this.retry);
      this.retry = setTimeout(() => void this.sync(), RETRY_MS);
    },
  );
  private stopped = false;
  private retry: NodeJS.Timeout | undefined;

  constructor(private readonly options: PodSyncOptions) {}

  async start(): Promise<void> {
    const { kc, rest } = this.options;
    const list = (path: string) => () => rest.call<KubernetesListObject<KubernetesObject>>('GET', path);
    this.podInformer = this.watch(makeInformer(kc, '/api/v1/pods', list('/api/v1/pods')), 'pods');
    this.serviceInformer = this.watch(makeInformer(kc, '/api/v1/services', list('/api/v1/services')), 'services');
    await Promise.all([this.podInformer.start(), this.serviceInformer.start()]);
    await this.sync();
  }

  private watch(informer: Cached<KubernetesObject>, what: string): Cached<KubernetesObject> {
    for (const event of ['add', 'update', 'delete'] as const) informer.on(event, () => void this.sync());
    informer.on('error', (err: unknown) => {
      if (this.stopped) return;
      this.options.logger.warn({ err: messageOf(err), what }, 'watch failed; restarting');
      setTimeout(() => void informer.start().catch(() => undefined), RETRY_MS);
    });
    return informer;
  }

  /** Runs a pass now, or one more after the running one. */
  sync(): Promise<void> {
    return this.passes.request();
  }

  private apiPods(): ApiPod[] {
    const nodes = this.options.nodes;
    return ((this.podInformer?.list() ?? []) as unknown as ApiPod[]).filter(
      (p) => p.spec.nodeName !== undefined && nodes.has(p.spec.nodeName),
    );
  }

  services(): ServiceView[] {
    return ((this.serviceInformer?.list() ?? []) as unknown as ApiService[]).map(serviceView);
  }

  views(): PodView[] {
    return [...this.running.values()].map((r) => r.runtime.view());
  }

  runtimes(): PodRuntime[] {
    return [...this.running.values()].map((r) => r.runtime);
  }

  /** The API pods bound to lab nodes, for readiness checks. */
  boundPods(): readonly ApiPod[] {
    return this.apiPods();
  }

  private async pass(): Promise<void> {
    const byUid = new Map(this.apiPods().map((p) => [p.metadata.uid, p]));
    for (const [uid, run] of this.running) {
      const pod = byUid.get(uid);
      if (!pod || pod.metadata.deletionTimestamp) this.end(uid, run, pod !== undefined);
      else if (!run.runtime.terminating) run.runtime.id.labels = { ...(pod.metadata.labels ?? {}) };
    }
    const starts: Array<Promise<void>> = [];
    for (const [uid, pod] of byUid) {
      if (this.running.has(uid) || pod.metadata.deletionTimestamp || this.refused.has(uid)) continue;
      if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') continue;
      const started = this.startPod(pod);
      if (started) starts.push(started);
    }
    for (const uid of this.refused.keys()) if (!byUid.has(uid)) this.refused.delete(uid);
    await Promise.all(starts);
    this.options.changed();
    await this.report(byUid);
  }

  private startPod(pod: ApiPod): Promise<void> | undefined {
    let identity;
    try {
      identity = podIdentity(pod);
    } catch (error) {
      const why = messageOf(error);
      this.refused.set(pod.metadata.uid, why);
      this.options.logger.error({ pod: podKey(pod), reason: why }, 'pod cannot run in the lab');
      void this.options.rest
        .call(
          'PATCH',
          `/api/v1/namespaces/${pod.metadata.namespace}/pods/${pod.metadata.name}/status`,
          { status: { phase: 'Failed', reason: 'LabCannotRun', message: why } },
          MERGE_PATCH,
        )
        .catch((err: unknown) => this.options.logger.warn({ err, pod: podKey(pod) }, 'could not report a failed pod'));
      return undefined;
    }
    const node = this.options.nodes.get(pod.spec.nodeName!)!;
    const runtime = new PodRuntime(identity, { ...this.options.context, changed: () => void this.sync() });
    const ip = node.addresses.allocate();
    runtime.placement = {
      node: pod.spec.nodeName!,
      ip,
      link: { netns: podNetnsName(this.options.lab, identity.namespace, identity.name), hostDevice: `vk${++this.seq}`, ip },
      cgroup: join(node.cgroup, podCgroupDirName(identity.namespace, identity.name)),
    };
    this.running.set(identity.uid, { runtime, startedAt: new Date().toISOString().replace(/\.\d+Z$/, 'Z') });
    return runtime.start(runtime.placement, this.options.writeEtc);
  }

  /** Stops the pod's processes, then confirms the deletion the API server asked for. */
  private end(uid: string, run: Running, inApi: boolean): void {
    if (run.ending) return;
    run.runtime.markTerminating();
    const { runtime } = run;
    run.ending = (async () => {
      await runtime
        .finishTermination()
        .catch((err: unknown) => this.options.logger.error({ err, pod: runtime.key }, 'pod termination failed'));
      const placement = runtime.placement;
      if (placement) this.options.nodes.get(placement.node)?.addresses.release(placement.ip);
      if (inApi) {
        const body = { apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds: 0, preconditions: { uid } };
        await this.options.rest
          .call('DELETE', `/api/v1/namespaces/${runtime.id.namespace}/pods/${runtime.id.name}`, body)
          .catch((err: unknown) => this.options.logger.warn({ err: messageOf(err), pod: runtime.key }, 'final pod delete failed'));
      }
      this.running.delete(uid);
      this.options.changed();
      void this.sync();
    })();
  }

  /**
   * Level-triggered against the API's copy, not only our own last report: when something else
   * changes a pod's status (the node lifecycle controller marks pods not ready after missed
   * heartbeats, say), the next pass puts the truth back.
   */
  private async report(byUid: ReadonlyMap<string, ApiPod>): Promise<void> {
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    for (const [uid, run] of this.running) {
      const pod = byUid.get(uid);
      if (run.ending || !pod) continue;
      const view = run.runtime.view();
      const want = statusFingerprint(view);
      if (want === apiStatusFingerprint(pod)) continue;
      const resourceVersion = pod.metadata.resourceVersion ?? '';
      if (run.reported?.status === want && run.reported.resourceVersion === resourceVersion) continue;
      const images = Object.fromEntries(view.containers.map((c) => [c.name, c.image]));
      await this.options.rest.call(
        'PATCH',
        `/api/v1/namespaces/${view.namespace}/pods/${view.name}/status`,
        podStatusPatch({ view, startedAt: run.startedAt, images }, now),
        MERGE_PATCH,
      );
      run.reported = { status: want, resourceVersion };
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.passes.stop();
    clearTimeout(this.retry);
    await Promise.all([this.podInformer?.stop(), this.serviceInformer?.stop()]);
    await Promise.all([...this.running.values()].map((r) => r.runtime.kill()));
  }
}
