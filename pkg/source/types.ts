/*
 * Where the cluster's objects come from. A source only collects raw objects; turning them into
 * a snapshot (and rejecting bad ones) is pkg/model's job, and deciding what to do is the
 * planner's. Sources never call down into the reconciler: they signal, the reconciler pulls.
 */

/** Kinds the agent reads. */
export type WatchedKind = 'Node' | 'Service' | 'EndpointSlice' | 'Namespace';

export interface SourceStatus {
  /** Every kind has completed its initial list (and, for files, the first read). */
  readonly synced: boolean;
  /** Wall-clock ms of the last successful full sync or event, 0 before the first. */
  readonly lastSyncMs: number;
  /** Human-readable reason when not synced or degraded, e.g. "API server unreachable: ...". */
  readonly message?: string;
}

export interface Source {
  /** Begins listing and watching; resolves once started (not necessarily synced). */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The current raw Kubernetes-shaped objects ({apiVersion, kind, metadata, ...}). */
  objects(): readonly unknown[];
  /** Called (coalescing is the caller's job) whenever objects() may have changed. */
  onChange(listener: () => void): void;
  status(): SourceStatus;
}
