/*
 * One way of reaching an endpoint that the connect benchmark measures. Each system sets itself up
 * in the benchmark's lab (its own cgroup, its own programming), names the address its client
 * dials and where the client runs (a cgroup, and a namespace when not the lab's), and removes what
 * it made. The rounds, the statistics and the JSON are the same for every system.
 */
import type { ConnectLab, Placement } from './connect-lab.js';

export interface Target extends Placement {
  readonly address: string;
  readonly port: number;
}

/** What a system had programmed while it was measured. */
export interface Loaded {
  readonly services: number;
  readonly endpoints: number;
}

/** Figures flattened into the JSON: numbers, or a small table of numbers under one key. */
export type Extras = Record<string, number | Readonly<Record<string, number>>>;

export interface ConnectSystem {
  /** The JSON key prefix: `${name}_ns`, `${name}_p99_ns`, ... */
  readonly name: string;
  setup(lab: ConnectLab): Promise<Target>;
  loaded(): Loaded;
  /** Extra figures worth reporting (time to program, ...), flattened into the JSON. */
  extras(): Extras | Promise<Extras>;
  teardown(): Promise<void>;
}

/**
 * A system that had not programmed every Service within the run's bound: a result (how long it was
 * given, what it had done by then), not a failed run. The benchmarks leave it out of the rounds and
 * report these figures and the reason in the JSON.
 */
export class NotProgrammedError extends Error {
  constructor(
    readonly system: string,
    readonly waitedMs: number,
    readonly extras: Readonly<Record<string, number>>,
    options?: ErrorOptions,
  ) {
    super(`${system}: not programmed within ${waitedMs} ms`, options);
    this.name = 'NotProgrammedError';
  }
}
