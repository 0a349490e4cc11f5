/*
 * Where the cluster's objects come from. A source only collects raw objects; turning them into
 * a snapshot (and rejecting bad ones) is pkg/model's job, and deciding what to do is the
 * planner's. Sources never call down into the reconciler: they signal, the reconciler pulls.
 */

import type { WatchedKind } from '../model/index.js';

/** Kinds the agent reads: the model's table (pkg/model/kinds.ts). */
export type { WatchedKind };

export interface SourceStatus {
  /** Every kind has completed its initial list (and, for files, the first read). */
  readonly synced: boolean;
  /** Wall-clock ms of the last successful full sync or event, 0 before the first. */
  readonly lastSyncMs: number;
  /** Human-readable reason when not synced or degraded, e.g. "API server unreachable: ...". */
  readonly message?: string;
  /**
   * What is out of date or refused without stopping the agent from being ready: remote clusters
   * that are stale, remote Secrets that cannot be used (docs/multi-cluster.md).
   */
  readonly degraded?: string;
}

/**
 * One object that changed, when a source knows which: the object as it is now, or undefined once
 * it is deleted. Lets the reconciler redo only what depends on it.
 */
export interface ObjectChange<K extends string = WatchedKind> {
  readonly kind: K;
  /** "namespace/name", or "name" for cluster-scoped kinds. */
  readonly name: string;
  /** The remote cluster it was read from; absent when local. */
  readonly cluster?: string;
  readonly object: unknown;
}

/** `changes` lists what changed when the source knows; without it, anything may have. */
export type ChangeListener = (changes?: readonly ObjectChange[]) => void;

export interface Source {
  /** Begins listing and watching; resolves once started (not necessarily synced). */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The current raw Kubernetes-shaped objects ({apiVersion, kind, metadata, ...}). */
  objects(): readonly unknown[];
  /** Called (coalescing is the caller's job) whenever objects() may have changed. */
  onChange(listener: ChangeListener): void;
  status(): SourceStatus;
}
