/**
 * pkg/reconciler: keeps the datapath equal to the plan for this node. Level-triggered: a pass
 * recomputes the desired state of everything a change can affect (everything, on start and
 * resync) and writes only what differs from what the writer says is programmed.
 */
export { Reconciler } from './reconciler.js';
export { NodeIds } from './node-ids.js';
export { maglevBackendIdentity, serviceSpecs, type DesiredService, type VipConflict } from './translate.js';
export { maglevTable } from './maglev-table.js';
export { PassScheduler } from './pass-scheduler.js';
export { countCodes } from './count-codes.js';
export {
  DEFAULT_DEBOUNCE_MS,
  DEFAULT_RESYNC_MS,
  SERVICE_FAILURE_CODES,
  type CodeCounts,
  type MapCounts,
  type ObjectProvider,
  type ReconcileResult,
  type ReconcilerOptions,
  type ServiceFailure,
  type ServiceFailureCode,
  type ServiceWriterLike,
} from './types.js';
