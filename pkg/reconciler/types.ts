/*
 * The reconciler's vocabulary and the views it takes of its neighbours. It depends on these
 * shapes, not on the concrete Source or ServiceWriter, so a test or a benchmark can wrap them.
 */
import type {
  BulkResult,
  DriftReport,
  MapOps,
  ModeName,
  ProgrammedService,
  ProgrammedTotals,
  ServiceKey,
  ServiceSpec,
} from '../datapath/index.js';
import type { RejectionCode } from '../model/index.js';
import type { PlanOptions, WarningCode } from '../planner/index.js';
import type { Source } from '../source/index.js';

/**
 * pkg/datapath's ServiceWriter as the reconciler uses it: the one account of what is programmed
 * (key text as datapath's serviceKeyText gives it), and the only way to change it.
 */
export interface ServiceWriterLike {
  apply(spec: ServiceSpec): ProgrammedService;
  remove(key: ServiceKey): boolean;
  applyMany(specs: readonly ServiceSpec[]): BulkResult;
  /** Whether the service is programmed exactly as `spec` says (datapath's programmedAs). */
  matches(spec: ServiceSpec): boolean;
  /** Brings the maps back to what the writer programmed, when something else changed them. */
  repairDrift(): DriftReport;
  /** Key text of every programmed service. */
  keys(): IterableIterator<string>;
  /** The key a programmed service was written with, by key text. */
  keyOf(text: string): ServiceKey | undefined;
  /** The "ns/name" a programmed service was last written or relabelled for. */
  label(key: ServiceKey): string | undefined;
  relabel(key: ServiceKey, label: string): void;
  /** The node id a programmed backend carries, to keep node numbering across a restart. */
  nodeIdOf(address: string, port: number): number | undefined;
  totals(): ProgrammedTotals;
  /** Operations made on each map so far; a pass reports the difference. */
  mapOps(): Record<string, MapOps>;
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

/** Map entries by map name (services, slots, backends, counters). */
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
  /** Where the time went, by stage: reading objects, planning, comparing, writing maps. */
  readonly phasesMs?: Readonly<Record<'snapshot' | 'plan' | 'compare' | 'write', number>>;
  /** Datapath services (VIP:port entries) wanted by the plan. */
  readonly desired: number;
  /** Kubernetes Services the plan intercepts, each with one or more of those entries. */
  readonly desiredServices: number;
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
  /** Map entries written or deleted to apply and remove services, by map, as the maps counted them. */
  readonly mapWrites: MapCounts;
  readonly mapErrors: MapCounts;
  /** Map entries a resync found changed behind the agent's back and put right, by map. */
  readonly driftRepaired?: MapCounts;
  /** Every map read, write and delete of the pass (drift repair included), by map. */
  readonly mapOps?: Readonly<Record<string, MapOps>>;
}
