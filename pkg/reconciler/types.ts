/*
 * The reconciler's vocabulary and the narrow views it takes of its neighbours. It depends on
 * these shapes, not on the concrete Source or ServiceWriter, so it can be driven by fakes.
 */
// Type-only imports: pkg/datapath/index.ts loads libbpf on import, which pure tests must not need.
import type { ModeName, ProgrammedService, ServiceKey, ServiceSpec } from '../datapath/types.js';
import type { DriftReport } from '../datapath/drift.js';
import type { BulkResult } from '../datapath/writer.js';
import type { RejectionCode } from '../model/index.js';
import type { PlanOptions, WarningCode } from '../planner/index.js';
import type { Source } from '../source/types.js';

/** The part of pkg/datapath's ServiceWriter the reconciler uses. */
export interface ServiceWriterLike {
  apply(spec: ServiceSpec): ProgrammedService;
  remove(key: ServiceKey): boolean;
  applyMany(specs: readonly ServiceSpec[]): BulkResult;
  /** What the maps hold now, as far as the writer knows (read back from the pins on start). */
  programmed(): ProgrammedService[];
  /** One service of programmed(). */
  get(key: ServiceKey): ProgrammedService | undefined;
  /** get() compared with sameService(), without building the programmed service. */
  matches?(spec: ServiceSpec): boolean;
  /** Brings the maps back to what the writer programmed, when something else changed them. */
  repairDrift?(): DriftReport;
}

/** Where raw objects come from: a Source, or anything shaped like the parts used here. */
export type ObjectProvider = Pick<Source, 'objects' | 'onChange'> & Partial<Pick<Source, 'status'>>;

export interface ReconcilerOptions {
  readonly source: ObjectProvider;
  readonly nodeName: string;
  readonly writer: ServiceWriterLike;
  readonly planOptions?: Partial<PlanOptions>;
  /** Signals within this window after the first one are folded into one reconcile. */
  readonly debounceMs?: number;
  /** Reconcile this often even without signals, to retry failures and repair drift. 0 disables. */
  readonly resyncMs?: number;
}

/**
 * Passes cost what changed, so none is held back: signals that arrive while one runs are folded
 * into the next.
 */
export const DEFAULT_DEBOUNCE_MS = 0;
export const DEFAULT_RESYNC_MS = 60_000;

/**
 * Why a datapath service was not written, for metrics labels and anything else that must not
 * read prose. docs/metrics.md says what each means (test/unit/docs/metrics-doc.test.ts checks).
 */
export const SERVICE_FAILURE_CODES = ['map-full', 'invalid-service', 'vip-conflict', 'bpf-call', 'error'] as const;
export type ServiceFailureCode = (typeof SERVICE_FAILURE_CODES)[number];

/** One datapath service (a VIP, port and protocol of a Kubernetes Service) that was not written. */
export interface ServiceFailure {
  readonly code: ServiceFailureCode;
  /** "ns/name" */
  readonly service: string;
  /** "vip:port/proto" */
  readonly key: string;
  /** The map that refused, when one did. */
  readonly map?: string;
  /** For people: what the writer said. Nothing parses it. */
  readonly message: string;
}

/** How many problems of each code a pass found; codes it did not find are absent. */
export type CodeCounts<Code extends string> = Readonly<Partial<Record<Code, number>>>;

/** Map writes implied by the changes, by map name (services, slots, backends). */
export type MapCounts = Readonly<Record<string, number>>;

export interface ReconcileResult {
  /** True when the pass ran to the end; single services may still have failed. */
  readonly completed: boolean;
  /** Why the pass did not run or stopped, when completed is false. */
  readonly message?: string;
  readonly trigger: string;
  /** Every object was re-read (first pass, resync, or a source that cannot name its changes). */
  readonly full: boolean;
  /** Services planned again in this pass; the others kept their plan. */
  readonly replanned: number;
  readonly finishedAtMs: number;
  readonly durationMs: number;
  /** Where the time went: reading objects, planning, translating and diffing, writing maps. */
  readonly phasesMs?: Readonly<Record<'snapshot' | 'plan' | 'diff' | 'write', number>>;
  /** Datapath services wanted by the plan. */
  readonly desired: number;
  readonly applied: number;
  readonly removed: number;
  readonly unchanged: number;
  readonly failures: readonly ServiceFailure[];
  /** Programmed datapath services per mode, after the pass. */
  readonly servicesByMode: Readonly<Partial<Record<ModeName, number>>>;
  /** Programmed endpoints per mode and tier ("FAILOVER" -> [tier0, tier1, ...]). */
  readonly endpointsByModeTier: Readonly<Partial<Record<ModeName, readonly number[]>>>;
  /** Objects the model refused, by code. */
  readonly rejected: CodeCounts<RejectionCode>;
  /** Planner warnings, by code. */
  readonly warnings: CodeCounts<WarningCode>;
  readonly mapWrites: MapCounts;
  readonly mapErrors: MapCounts;
  /** Map entries a resync found changed behind the agent's back and put right, by map. */
  readonly driftRepaired?: MapCounts;
}
