/*
 * The level-triggered loop. Change signals queue the changes the source named and lead to a pass
 * that redoes what depends on them; the first pass, a source that cannot say what changed, and
 * the periodic resync lead to a full pass over everything. It never writes before the source has
 * synced, because an empty object list would read as "remove everything" and wipe a datapath
 * that is still serving.
 */
import type { Logger } from 'pino';
import { SnapshotStore, type RawChange } from '../model/index.js';
import { DesiredSpecs } from './desired-specs.js';
import { NodeIds } from './node-ids.js';
import { runPass, type PassState, type PassWork } from './pass.js';
import { PassScheduler } from './pass-scheduler.js';
import { DEFAULT_DEBOUNCE_MS, DEFAULT_RESYNC_MS, type ReconcileResult, type ReconcilerOptions } from './types.js';

export class Reconciler {
  private readonly state: PassState = {
    store: new SnapshotStore(),
    desired: new DesiredSpecs(),
    nodeIds: new NodeIds(),
    failures: new Map(),
    reported: new Set(),
  };
  private readonly scheduler: PassScheduler;
  private pendingChanges: RawChange[] = [];
  /** The source could not say what changed (or a pass failed): the next pass reads everything. */
  private pendingFull = true;
  private resyncDue = false;
  private readonly listeners: Array<(result: ReconcileResult) => void> = [];
  private resyncTimer: NodeJS.Timeout | undefined;
  private last: ReconcileResult | undefined;
  private lastCompleted: ReconcileResult | undefined;
  private started = false;
  private stopped = false;
  private passCount = 0;

  constructor(
    private readonly options: ReconcilerOptions,
    private readonly logger: Logger,
  ) {
    this.scheduler = new PassScheduler(
      options.debounceMs ?? DEFAULT_DEBOUNCE_MS,
      (reasons) => this.pass(reasons),
      (error) => this.logger.error({ err: error }, 'reconcile failed unexpectedly'),
    );
    // Changes are tracked from the start, so a pass run by hand (reconcileNow) sees them too.
    this.options.source.onChange((changes) => {
      if (changes === undefined || this.lastCompleted === undefined) {
        // Before the first full pass, single changes add nothing to it.
        this.pendingFull = true;
        this.pendingChanges = [];
      } else if (!this.pendingFull) {
        for (const change of changes) this.pendingChanges.push(change);
      }
      if (this.started) this.trigger('change');
    });
  }

  /** Starts reacting to change signals and the resync timer, and schedules the first pass. */
  start(): void {
    if (this.started) return;
    this.started = true;
    const resyncMs = this.options.resyncMs ?? DEFAULT_RESYNC_MS;
    if (resyncMs > 0) {
      this.resyncTimer = setInterval(() => {
        this.resyncDue = true;
        this.trigger('resync');
      }, resyncMs);
      this.resyncTimer.unref();
    }
    this.trigger('start');
  }

  stop(): void {
    this.stopped = true;
    this.scheduler.stop();
    if (this.resyncTimer) clearInterval(this.resyncTimer);
  }

  trigger(reason: string): void {
    if (!this.stopped) this.scheduler.signal(reason);
  }

  /** Runs a pass now (or joins the one in flight) and returns the latest result. */
  async reconcileNow(reason = 'manual'): Promise<ReconcileResult | undefined> {
    await this.scheduler.flush(reason);
    return this.last;
  }

  /** Resolves when no pass is pending or running. */
  idle(): Promise<void> {
    return this.scheduler.idle();
  }

  onResult(listener: (result: ReconcileResult) => void): void {
    this.listeners.push(listener);
  }

  /** The latest pass, whether or not it completed. */
  lastResult(): ReconcileResult | undefined {
    return this.last;
  }

  /** The latest pass that ran to the end; readiness and "last sync" metrics use this. */
  lastCompletedResult(): ReconcileResult | undefined {
    return this.lastCompleted;
  }

  /** Passes that reached the planner (not counting ones that waited for the source). */
  get passes(): number {
    return this.passCount;
  }

  get nodeIds(): NodeIds {
    return this.state.nodeIds;
  }

  /** What the next pass does, taking the queued changes. */
  private takeWork(): PassWork {
    const first = this.lastCompleted === undefined;
    const everything = first || this.resyncDue;
    const full = everything || this.pendingFull;
    const changes = this.pendingChanges;
    this.pendingChanges = [];
    this.pendingFull = false;
    this.resyncDue = false;
    return full ? { kind: 'full', everything, first } : { kind: 'changes', changes };
  }

  private pass(trigger: string): void {
    const status = this.options.source.status?.();
    if (status && !status.synced) {
      this.publish(this.incomplete(trigger, `waiting for the source to sync${status.message ? `: ${status.message}` : ''}`));
      return;
    }
    this.passCount++;
    const work = this.takeWork();
    try {
      const result = runPass(
        {
          source: this.options.source,
          writer: this.options.writer,
          nodeName: this.options.nodeName,
          planOptions: this.options.planOptions ?? {},
          logger: this.logger,
          state: this.state,
        },
        trigger,
        work,
      );
      this.lastCompleted = result;
      this.publish(result);
    } catch (error) {
      // Something outside a single service broke (reading the maps, say): keep serving what is
      // programmed, report, and let the next signal or resync try again.
      this.logger.error({ err: error, trigger }, 'reconcile pass failed');
      // What a half-done pass left in memory is not trusted: the next pass starts from scratch.
      this.pendingFull = true;
      this.resyncDue = true;
      this.publish(this.incomplete(trigger, error instanceof Error ? error.message : String(error)));
    }
  }

  private incomplete(trigger: string, message: string): ReconcileResult {
    const previous = this.lastCompleted;
    return {
      completed: false,
      message,
      trigger,
      full: false,
      replanned: 0,
      finishedAtMs: Date.now(),
      durationMs: 0,
      desired: previous?.desired ?? 0,
      desiredServices: previous?.desiredServices ?? 0,
      applied: 0,
      removed: 0,
      unchanged: 0,
      failures: previous?.failures ?? [],
      servicesByMode: previous?.servicesByMode ?? {},
      endpointsByModeTier: previous?.endpointsByModeTier ?? {},
      rejected: previous?.rejected ?? {},
      warnings: previous?.warnings ?? {},
      mapWrites: {},
      mapErrors: {},
    };
  }

  private publish(result: ReconcileResult): void {
    this.last = result;
    for (const listener of this.listeners) {
      try {
        listener(result);
      } catch (error) {
        this.logger.error({ err: error }, 'reconcile result listener failed');
      }
    }
  }
}
