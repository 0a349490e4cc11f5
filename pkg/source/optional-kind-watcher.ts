import type { WatchedKindInfo } from '../model/index.js';
import type { KindInformer } from './kind-informer.js';
import type { ServedVersionLookup } from './served-version.js';

/** Where pkg/source says what it notices; a pino logger fits. */
export interface SourceLog {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

export interface OptionalKindWatcherOptions {
  readonly info: WatchedKindInfo;
  readonly servedVersion: ServedVersionLookup;
  /** A not-yet-started informer for the kind at this version. */
  readonly makeInformer: (version: string) => KindInformer;
  readonly checkIntervalMs: number;
  /** The kind's objects left the source: its informer was dropped. */
  readonly onDropped: () => void;
  readonly log: SourceLog;
}

/**
 * Watches a CRD-served kind (DestinationRule) only while the API server serves it. Discovery is
 * asked again every checkIntervalMs: the CRD may be installed after the agent starts, or removed,
 * and listing a kind that is not served answers 404 forever. Absence is normal (a cluster without
 * Istio), so it is said once at info and never counts as an error; nothing here holds up the
 * required kinds or the source's sync.
 */
export class OptionalKindWatcher {
  private informerAt: { readonly version: string; readonly informer: KindInformer } | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = true;
  private checking: Promise<void> | undefined;
  private saidAbsent = false;
  private discoveryFailing = false;
  private checkedOnce = false;

  constructor(private readonly options: OptionalKindWatcherOptions) {}

  get informer(): KindInformer | undefined {
    return this.informerAt?.informer;
  }

  /** Discovery answered (or failed) once, and the kind is listed if it is served: a one-shot reader may take objects(). */
  get settled(): boolean {
    return this.checkedOnce && (this.informerAt === undefined || this.informerAt.informer.synced);
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.runCheck();
    this.timer = setInterval(() => this.runCheck(), this.options.checkIntervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    this.timer = undefined;
    await this.checking?.catch(() => undefined);
    const current = this.informerAt;
    this.informerAt = undefined;
    await current?.informer.stop();
  }

  /** One check at a time: a slow discovery answer must not have a second one race it. */
  private runCheck(): void {
    this.checking ??= this.check()
      .catch((err: unknown) => this.options.log.warn({ kind: this.options.info.kind, err }, 'checking an optional kind failed'))
      .finally(() => {
        this.checking = undefined;
        this.checkedOnce = true;
      });
  }

  private async check(): Promise<void> {
    const { info, log } = this.options;
    let version: string | undefined;
    try {
      version = await this.options.servedVersion(info);
      this.discoveryFailing = false;
    } catch (err) {
      // Unreachable or refusing: keep what is watched; the next check asks again.
      if (!this.discoveryFailing) log.warn({ kind: info.kind, err }, 'discovery failed; keeping the current state of an optional kind');
      this.discoveryFailing = true;
      return;
    }
    if (this.stopped || version === this.informerAt?.version) {
      if (version === undefined) this.sayAbsent();
      return;
    }
    const previous = this.informerAt;
    this.informerAt = undefined;
    if (previous) {
      await previous.informer.stop();
      this.options.onDropped();
      // stop() may have come while the old informer stopped; a new one now would leak.
      if (this.isStopped()) return;
    }
    if (version === undefined) {
      this.sayAbsent();
      return;
    }
    this.saidAbsent = false;
    const informer = this.options.makeInformer(version);
    this.informerAt = { version, informer };
    log.info({ kind: info.kind, apiVersion: `${info.group}/${version}` }, `${info.kind}s served; watching them`);
    informer.start();
  }

  /** A method, not the field: the compiler would narrow the field across an await. */
  private isStopped(): boolean {
    return this.stopped;
  }

  private sayAbsent(): void {
    if (this.saidAbsent) return;
    this.saidAbsent = true;
    const { info, checkIntervalMs, log } = this.options;
    const everySeconds = Math.round(checkIntervalMs / 1000);
    log.info({ kind: info.kind, group: info.group, checkIntervalMs }, `${info.kind}s not served; checking again every ${everySeconds} s`);
  }
}
