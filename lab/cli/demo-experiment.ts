/*
 * A demo experiment: a seed's walk-through as a list of steps over one DemoSession. The first
 * step brings the lab up; each later one changes something the way the seed does and records
 * what the client saw. Steps are plain values, so an experiment grows by appending steps.
 */
import type { DemoSession } from './demo-session.js';

export interface DemoStep {
  /** Printed as "== Step N: title". */
  readonly title: string;
  run(session: DemoSession): Promise<void>;
}

/** What a run may tune; each experiment says which it reads. */
export interface DemoParams {
  /**
   * Seed 003's outage: the DestinationRule's outlierDetection.baseEjectionTime, as Istio writes
   * durations ("1m", the seed's; a test uses a few seconds).
   */
  readonly ejectionTime?: string;
}

export interface DemoExperiment {
  /** What --experiment names, e.g. "003". */
  readonly id: string;
  /** One line for the start of the run. */
  readonly title: string;
  /** Needs kubectl against a real control plane (no --files equivalent of its commands). */
  readonly controlPlaneOnly: boolean;
  /** Also runs on the real-node lab with nearby as deploy/'s DaemonSet (`demo --real-nodes`). */
  readonly realNodes?: boolean;
  /** The steps for a lab of this name (undefined: the experiment's own default). */
  steps(labName: string | undefined, params: DemoParams): readonly DemoStep[];
}
