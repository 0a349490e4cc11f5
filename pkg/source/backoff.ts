export interface BackoffOptions {
  /** First delay after a failure. */
  readonly initialMs: number;
  /** Ceiling, so a long outage still retries at a steady, bounded rate. */
  readonly maxMs: number;
  /** Fraction of random spread added, so many agents do not reconnect in lockstep. */
  readonly jitter?: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 500, maxMs: 30_000, jitter: 0.2 };

/** Doubling delays from initialMs up to maxMs; reset() after a success. */
export class ExponentialBackoff {
  private attempt = 0;

  constructor(
    private readonly options: BackoffOptions = DEFAULT_BACKOFF,
    private readonly random: () => number = Math.random,
  ) {}

  next(): number {
    const { initialMs, maxMs, jitter = 0 } = this.options;
    const base = Math.min(maxMs, initialMs * 2 ** Math.min(this.attempt, 30));
    this.attempt += 1;
    return Math.min(maxMs, Math.round(base * (1 + jitter * this.random())));
  }

  reset(): void {
    this.attempt = 0;
  }

  get failures(): number {
    return this.attempt;
  }
}
