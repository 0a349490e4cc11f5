/*
 * A control loop's passes, one at a time: asking while a pass runs earns exactly one more pass
 * after it, however often it is asked, so every change is seen by a pass that starts after it.
 */
export class SerialPasses {
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;

  constructor(
    private readonly pass: () => Promise<void>,
    /** A failed pass is reported here; the next request runs a new one. */
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Runs a pass now, or one more after the running one; resolves when it is done. */
  request(): Promise<void> {
    this.again = true;
    this.running ??= (async () => {
      try {
        while (this.again && !this.stopped) {
          this.again = false;
          await this.pass().catch(this.onError);
        }
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  /** A pass runs or is asked for. */
  get busy(): boolean {
    return this.running !== undefined || this.again;
  }

  /** No pass starts after this one. */
  stop(): void {
    this.stopped = true;
  }
}
