import type { KubeConfig } from '@kubernetes/client-node';
import { DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js';
import { ChangeListeners } from './change-listeners.js';
import { describeCause } from './errors.js';
import { KindInformer } from './kind-informer.js';
import { customKindSpec, kindSpecs } from './kind-specs.js';
import { loadKubeConfig } from './kube-config.js';
import { MODEL_KINDS, type RequiredKind } from '../model/index.js';
import { OptionalKindWatcher, type SourceLog } from './optional-kind-watcher.js';
import { servedVersionLookup } from './served-version.js';
import type { ChangeListener, ObjectChange, Source, SourceStatus, WatchedKind } from './types.js';

export interface KubernetesSourceOptions {
  /** Used as is when given (tests, callers that already built one). */
  readonly kubeConfig?: KubeConfig;
  /** A kubeconfig file; without it and without kubeConfig, the in-cluster service account. */
  readonly kubeconfigPath?: string;
  readonly backoff?: BackoffOptions;
  /** Server-side watch timeout; by default random in 5-10 min, as client-go does, to spread reconnects. */
  readonly watchTimeoutSeconds?: () => number;
  readonly listTimeoutMs?: number;
  readonly minWatchLifetimeMs?: number;
  /** Where a throwing onChange listener is reported. */
  readonly onListenerError?: (err: unknown) => void;
  /** How often discovery is asked whether an optional kind (a CRD) is served, or still is. */
  readonly optionalKindCheckMs?: number;
  /** What the source notices about optional kinds; silent by default. */
  readonly log?: SourceLog;
  /**
   * Only these required kinds, and no optional ones: a remote cluster is read for Services,
   * EndpointSlices and Nodes alone (docs/multi-cluster.md). Every kind when absent.
   */
  readonly onlyKinds?: readonly RequiredKind[];
  /** What of each object the caches keep: keepReadFields() by default, keepRemoteReadFields() for a remote cluster. */
  readonly readFields?: (raw: unknown) => unknown;
}

/** A CRD installed after the agent starts is picked up within this long. */
export const DEFAULT_OPTIONAL_KIND_CHECK_MS = 60_000;

const SILENT: SourceLog = {
  info: () => undefined,
  warn: () => undefined,
};

/** Totals over all kinds, for the metrics layer. */
export interface KubernetesSourceStats {
  readonly lists: number;
  readonly relists: number;
  readonly watches: number;
  readonly watchRestarts: number;
  readonly errors: number;
  readonly events: number;
  readonly bookmarks: number;
}

export interface KindStatus {
  readonly kind: WatchedKind;
  readonly synced: boolean;
  readonly resourceVersion: string;
  readonly lastSuccessMs: number;
  readonly error?: string;
}

const randomWatchTimeoutSeconds = (): number => 300 + Math.floor(Math.random() * 300);

/**
 * Lists and watches Nodes, Services, EndpointSlices and Namespaces cluster-wide, and the optional
 * kinds (DestinationRules) while the API server serves them. Each kind has its own informer, so
 * one kind failing (say, RBAC on EndpointSlices) leaves the others current. Sync, status() and
 * readiness are the required kinds' alone: an optional kind absent or failing never holds them up.
 * Once a kind has listed it stays synced through later errors: its cache is the last known
 * state, and status().message says what is failing.
 */
export class KubernetesSource implements Source {
  private readonly informers: readonly KindInformer[];
  private readonly optional: readonly OptionalKindWatcher[];
  private readonly listeners: ChangeListeners;
  private cached: readonly unknown[] | undefined;

  constructor(options: KubernetesSourceOptions = {}) {
    const kc = options.kubeConfig ?? loadKubeConfig(options.kubeconfigPath);
    this.listeners = new ChangeListeners(options.onListenerError);
    const informerOptions = {
      backoff: options.backoff ?? DEFAULT_BACKOFF,
      watchTimeoutSeconds: options.watchTimeoutSeconds ?? randomWatchTimeoutSeconds,
      listTimeoutMs: options.listTimeoutMs ?? 60_000,
      minWatchLifetimeMs: options.minWatchLifetimeMs ?? 1_000,
      ...(options.readFields ? { readFields: options.readFields } : {}),
      onChange: (change?: ObjectChange) => {
        this.cached = undefined;
        this.listeners.notify(change);
      },
    };
    this.informers = kindSpecs(kc, options.onlyKinds).map((spec) => new KindInformer(spec, kc, informerOptions));
    const servedVersion = servedVersionLookup(kc, informerOptions.listTimeoutMs);
    this.optional = MODEL_KINDS.filter((info) => info.optional && !options.onlyKinds).map(
      (info) =>
        new OptionalKindWatcher({
          info,
          servedVersion,
          makeInformer: (version) => new KindInformer(customKindSpec(kc, info, version), kc, informerOptions),
          checkIntervalMs: options.optionalKindCheckMs ?? DEFAULT_OPTIONAL_KIND_CHECK_MS,
          onDropped: () => informerOptions.onChange(),
          log: options.log ?? SILENT,
        }),
    );
  }

  /** Every informer running now: the required kinds' and those of optional kinds being served. */
  private allInformers(): KindInformer[] {
    return [...this.informers, ...this.optional.flatMap((watcher) => (watcher.informer ? [watcher.informer] : []))];
  }

  start(): Promise<void> {
    for (const informer of this.informers) informer.start();
    for (const watcher of this.optional) watcher.start();
    return Promise.resolve();
  }

  async stop(): Promise<void> {
    await Promise.all([...this.informers.map((informer) => informer.stop()), ...this.optional.map((watcher) => watcher.stop())]);
  }

  objects(): readonly unknown[] {
    this.cached ??= this.allInformers().flatMap((informer) => informer.objects());
    return this.cached;
  }

  onChange(listener: ChangeListener): void {
    this.listeners.add(listener);
  }

  status(): SourceStatus {
    const synced = this.informers.every((informer) => informer.synced);
    const lastSyncMs = synced ? Math.max(...this.informers.map((informer) => informer.lastSuccessMs)) : 0;
    const message = this.statusMessage();
    return message === undefined ? { synced, lastSyncMs } : { synced, lastSyncMs, message };
  }

  /** Synced, and every optional kind looked up once and listed if served: what a list-once reader waits for. */
  settled(): boolean {
    return this.status().synced && this.optional.every((watcher) => watcher.settled);
  }

  kindStatus(): readonly KindStatus[] {
    return this.allInformers().map((informer) => {
      const base = {
        kind: informer.kind,
        synced: informer.synced,
        resourceVersion: informer.resourceVersion(),
        lastSuccessMs: informer.lastSuccessMs,
      };
      return informer.lastError ? { ...base, error: informer.lastError.message } : base;
    });
  }

  stats(): KubernetesSourceStats {
    const total = { lists: 0, relists: 0, watches: 0, watchRestarts: 0, errors: 0, events: 0, bookmarks: 0 };
    for (const { counters } of this.allInformers()) {
      for (const key of Object.keys(total) as Array<keyof typeof total>) total[key] += counters[key];
    }
    return total;
  }

  private statusMessage(): string | undefined {
    const errors = this.informers.flatMap((informer) => (informer.lastError ? [informer.lastError] : []));
    const [first] = errors;
    if (first && errors.every((error) => error.unreachable)) {
      return `API server unreachable: ${describeCause(first.cause)}`;
    }
    if (errors.length > 0) {
      return errors.map((error) => (error.unreachable ? `API server unreachable (${error.message})` : error.message)).join('; ');
    }
    const waiting = this.informers.filter((informer) => !informer.synced).map((informer) => informer.kind);
    return waiting.length > 0 ? `waiting for the initial list of ${waiting.join(', ')}` : undefined;
  }
}
