/*
 * When reconcile passes run. Folds bursts of change signals into few runs: the first signal
 * opens a window, later ones in it are absorbed (a fixed window, so a steady stream cannot
 * postpone a run forever), at most one run is in flight, and a signal arriving during a run
 * earns exactly one more run.
 */
export class PassScheduler {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private reasons = new Set<string>();
  private stopped = false;

  constructor(
    private readonly windowMs: number,
    private readonly run: (reasons: string) => void | Promise<void>,
    /** A run that throws must not become an unhandled rejection in a timer. */
    private readonly onError: (error: unknown) => void,
  ) {}

  signal(reason = 'change'): void {
    if (this.stopped) return;
    this.reasons.add(reason);
    if (this.running) {
      this.again = true;
      return;
    }
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      void this.fire();
    }, this.windowMs);
  }

  /** Runs now (joining a run in flight), e.g. for the first sync or a test. */
  async flush(reason = 'flush'): Promise<void> {
    this.reasons.add(reason);
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.running) {
      this.again = true;
      await this.idle();
      return;
    }
    await this.fire();
  }

  /** Resolves once nothing is pending or running. */
  async idle(): Promise<void> {
    while (this.running || this.timer) {
      if (this.running) await this.running;
      else await new Promise((resolve) => setTimeout(resolve, this.windowMs));
    }
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async fire(): Promise<void> {
    if (this.stopped) return;
    const reasons = [...this.reasons].sort().join(',');
    this.reasons.clear();
    this.again = false;
    this.running = (async () => {
      try {
        await this.run(reasons);
      } catch (error) {
        this.onError(error);
      } finally {
        this.running = undefined;
      }
    })();
    await this.running;
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- signal() and stop() set these while the run is awaited
    if (this.again && !this.stopped) {
      this.again = false;
      await this.fire();
    }
  }
}
