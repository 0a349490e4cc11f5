/**
 * pkg/reconciler: keeps the datapath equal to the plan for this node. Level-triggered: every
 * pass recomputes the whole desired state and writes only what differs from what is programmed.
 */
export { Reconciler } from './reconciler.js';
export { NodeIds } from './node-ids.js';
export { translatePlan, type DesiredService, type Translation, type VipConflict } from './translate.js';
export { diffServices, sameService, type ServiceDiff } from './diff.js';
export { CoalescingScheduler } from './scheduler.js';
export { rejectionReason, warningReason } from './reasons.js';
export { serviceKeyText } from './translate-keys.js';
export {
  DEFAULT_DEBOUNCE_MS,
  DEFAULT_RESYNC_MS,
  type MapCounts,
  type ObjectProvider,
  type ReconcileResult,
  type ReconcilerOptions,
  type ServiceFailure,
  type ServiceWriterLike,
} from './types.js';
