/* What every stage of a reconcile pass (pass.ts) reads: the pass's inputs and what lasts between passes. */
import type { Logger } from 'pino';
import type { ServiceSpec } from '../datapath/index.js';
import type { RawChange, SnapshotStore } from '../model/index.js';
import type { PlanOptions } from '../planner/index.js';
import type { DesiredSpecs } from './desired-specs.js';
import type { NodeIds } from './node-ids.js';
import type { ObjectProvider, ServiceFailure, ServiceWriterLike } from './types.js';

/** What the reconciler keeps between passes. What is programmed is the writer's to keep. */
export interface PassState {
  readonly store: SnapshotStore;
  readonly desired: DesiredSpecs;
  readonly nodeIds: NodeIds;
  /** Keys whose last write failed: retried on every pass. */
  readonly failures: Map<string, ServiceFailure>;
  /** Problems already logged at warn level; repeats of a level-triggered pass go to debug. */
  readonly reported: Set<string>;
}

export interface PassContext {
  readonly source: ObjectProvider;
  readonly writer: ServiceWriterLike;
  readonly nodeName: string;
  readonly planOptions: Partial<PlanOptions>;
  readonly logger: Logger;
  readonly state: PassState;
}

export type PassWork =
  /** Re-read everything. `everything`: re-plan every Service, not just those whose objects changed. */
  | { readonly kind: 'full'; readonly everything: boolean; readonly first: boolean }
  | { readonly kind: 'changes'; readonly changes: readonly RawChange[] };

/** A datapath key the plan wants, with its spec and owning Service. */
export interface WantedSpec {
  readonly key: string;
  readonly service: string;
  readonly spec: ServiceSpec;
}
