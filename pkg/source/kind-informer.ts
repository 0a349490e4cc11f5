import { ListWatch, V1ListMeta, type KubeConfig, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import { ExponentialBackoff, type BackoffOptions } from './backoff.js';
import { KindSyncError, ListTimeoutError } from './errors.js';
import { InstrumentedWatch, type WatchHooks } from './instrumented-watch.js';
import type { InformedKind, KindSpec } from './kind-specs.js';
import { keepReadFields } from '../model/index.js';
import { toPlainJson, withTypeMeta } from './plain-object.js';
import type { ObjectChange, WatchedKind } from './types.js';
import { withTimeout } from './with-timeout.js';

export interface KindInformerOptions<K extends InformedKind = WatchedKind> {
  readonly backoff: BackoffOptions;
  /** Asked of the server per watch, so half-open connections cannot hang a watch forever. */
  readonly watchTimeoutSeconds: () => number;
  readonly listTimeoutMs: number;
  /** A watch the server closes cleanly sooner than this is retried with backoff, not at once. */
  readonly minWatchLifetimeMs: number;
  /** One cached object changed, or (without a change) the cache as a whole did: it synced. */
  readonly onChange: (change?: ObjectChange<K>) => void;
  /** What of each object the cache keeps: keepReadFields() unless the reader reads less (a remote cluster). */
  readonly readFields?: (raw: unknown) => unknown;
}

export interface KindCounters {
  lists: number;
  relists: number;
  watches: number;
  watchRestarts: number;
  errors: number;
  events: number;
  bookmarks: number;
}

const OBJECT_PHASES = new Set(['ADDED', 'MODIFIED', 'DELETED']);

/**
 * One kind's list+watch cache: client-node's ListWatch plus what it lacks. ListWatch relists on
 * 410 and re-watches after a clean close, but any other error (unreachable server, dropped
 * stream, failed list) ends it for good; this class restarts it with exponential backoff.
 */
export class KindInformer<K extends InformedKind = WatchedKind> implements WatchHooks {
  readonly kind: K;
  readonly counters: KindCounters = { lists: 0, relists: 0, watches: 0, watchRestarts: 0, errors: 0, events: 0, bookmarks: 0 };
  private readonly informer: ListWatch<KubernetesObject>;
  private readonly backoff: ExponentialBackoff;
  private stopped = true;
  private listed = false;
  private listAwaitingApply = false;
  private phase: 'list' | 'watch' = 'list';
  private error: KindSyncError | undefined;
  private lastSuccess = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  private watchStartedAt = 0;
  private lastWatchEndedCleanlyAfterMs: number | undefined;
  private readonly readFields: (raw: unknown) => unknown;

  constructor(
    private readonly spec: KindSpec<K>,
    kc: KubeConfig,
    private readonly options: KindInformerOptions<K>,
  ) {
    this.kind = spec.kind;
    this.readFields = options.readFields ?? keepReadFields;
    this.backoff = new ExponentialBackoff(options.backoff);
    this.informer = new ListWatch(spec.watchPath, new InstrumentedWatch(kc, this), () => this.list(), false, spec.labelSelector);
    const changed = (object: KubernetesObject, deleted: boolean): void =>
      this.options.onChange({ kind: this.kind, name: objectName(object), object: deleted ? undefined : object });
    this.informer.on('add', (object) => changed(object, false));
    this.informer.on('update', (object) => changed(object, false));
    this.informer.on('delete', (object) => changed(object, true));
    this.informer.on('error', (err: unknown) => this.failed(err));
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    await this.informer.stop();
  }

  objects(): readonly KubernetesObject[] {
    return this.informer.list();
  }

  get synced(): boolean {
    return this.listed;
  }

  get lastError(): KindSyncError | undefined {
    return this.error;
  }

  /** Wall-clock ms of the last successful list or watch event, 0 before the first. */
  get lastSuccessMs(): number {
    return this.lastSuccess;
  }

  resourceVersion(): string {
    return this.informer.latestResourceVersion();
  }

  private run(): void {
    // start() resolves once the list and watch requests are issued; failures arrive via 'error'.
    this.informer.start().catch((err: unknown) => this.failed(err));
  }

  private failed(err: unknown): void {
    if (this.stopped) return; // aborting our own requests on stop() reports as an error
    this.counters.errors += 1;
    this.error = new KindSyncError(this.kind, this.phase, err);
    this.scheduleRestart();
  }

  private scheduleRestart(): void {
    if (this.restartTimer || this.stopped) return;
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      // ListWatch keeps its resourceVersion, so this resumes the watch; a 410 then forces a relist.
      if (!this.stopped) this.run();
    }, this.backoff.next());
    this.restartTimer.unref();
  }

  /** A list or a watch event arrived: the connection demonstrably works. */
  private succeeded(): void {
    this.error = undefined;
    this.lastSuccess = Date.now();
    this.backoff.reset();
  }

  private async list(): Promise<KubernetesListObject<KubernetesObject>> {
    this.phase = 'list';
    this.counters.lists += 1;
    if (this.listed) this.counters.relists += 1;
    const timeoutMs = this.options.listTimeoutMs;
    const result = await withTimeout(this.spec.list(), timeoutMs, () => new ListTimeoutError(timeoutMs));
    // Only what the model reads is cached: managedFields and the like would multiply the memory.
    const items = result.items.map((item) =>
      this.readFields(withTypeMeta(toPlainJson(item) as Record<string, unknown>, this.kind, this.spec.apiVersion)),
    );
    this.succeeded();
    // ListWatch applies the items after this returns and then opens the watch; beforeWatch marks sync.
    this.listAwaitingApply = true;
    const resourceVersion = result.metadata?.resourceVersion;
    const metadata = new V1ListMeta();
    if (resourceVersion !== undefined) metadata.resourceVersion = resourceVersion;
    return { metadata, items: items as KubernetesObject[] };
  }

  async beforeWatch(): Promise<boolean> {
    const justListed = this.listAwaitingApply;
    if (justListed) {
      this.listAwaitingApply = false;
      if (!this.listed) {
        this.listed = true;
        this.options.onChange();
      }
    }
    const cleanCloseAfterMs = this.lastWatchEndedCleanlyAfterMs;
    this.lastWatchEndedCleanlyAfterMs = undefined;
    if (!justListed && cleanCloseAfterMs !== undefined && cleanCloseAfterMs < this.options.minWatchLifetimeMs) {
      // A server or proxy that closes every watch at once would otherwise be hammered in a loop.
      await new Promise((resolve) => setTimeout(resolve, this.backoff.next()).unref());
    }
    if (this.stopped) return false;
    this.phase = 'watch';
    this.counters.watches += 1;
    if (this.counters.watches > 1) this.counters.watchRestarts += 1;
    this.watchStartedAt = Date.now();
    return true;
  }

  stillWanted(): boolean {
    return !this.stopped;
  }

  extraParams(): Record<string, string | number | boolean> {
    return { allowWatchBookmarks: true, timeoutSeconds: this.options.watchTimeoutSeconds() };
  }

  normalize(phase: string, object: unknown): unknown {
    if (!OBJECT_PHASES.has(phase) || typeof object !== 'object' || object === null) return object;
    return this.readFields(withTypeMeta(object as Record<string, unknown>, this.kind, this.spec.apiVersion));
  }

  afterEvent(phase: string): void {
    if (phase === 'ERROR') return; // a Status, e.g. 410 Expired; ListWatch relists when the stream closes
    if (phase === 'BOOKMARK') this.counters.bookmarks += 1;
    else this.counters.events += 1;
    this.succeeded();
  }

  established(): void {
    // Not a backoff reset: a server that accepts and then drops every stream must still slow us.
    this.error = undefined;
  }

  ended(err: unknown): void {
    const livedMs = Date.now() - this.watchStartedAt;
    if (livedMs >= this.options.minWatchLifetimeMs) this.backoff.reset();
    if (err === null || err === undefined) this.lastWatchEndedCleanlyAfterMs = livedMs;
  }
}

/** The key an ObjectChange uses: "namespace/name", or "name" for cluster-scoped objects. */
function objectName(object: KubernetesObject): string {
  const name = object.metadata?.name ?? '';
  const namespace = object.metadata?.namespace;
  return namespace ? `${namespace}/${name}` : name;
}
