/*
 * pkg/datapath: the kernel side, reached through libbpf. It knows services, tiers and backends,
 * and nothing of Kubernetes. Importing it loads no native library: libbpf is bound on first use.
 */
import { readCounters, type TierCounters } from './counters.js';
import { type LoadOptions, LoadedDatapath } from './loader.js';
import { ServiceWriter } from './writer.js';

export { canonicalAddress, familyOf } from './addr.js';
export { type BpfMap, type DatapathMaps, MAP_LAYOUTS, type MapOps, opsOf, opsSince } from './bpf-map.js';
export { STRUCTS, svcKey, type StructLayout } from './codecs.js';
export { BpfCallError, DatapathError, InvalidServiceError, MapFullError, PinConflictError, UninstallError } from './errors.js';
export { kernelName, type Ownership, ownershipOf, type PinnedObject } from './ownership.js';
export { type ForeignPin, uninstallPins, type UninstallReport } from './uninstall.js';
export { ATTACH_TYPES, MAP_NAMES, PIN_DIRS } from './object-names.js';
export {
  type BackendKey,
  backendKey,
  backendKeyOf,
  programmedAs,
  type ProgrammedTiers,
  sameBackend,
  sameService,
  sameSpec,
  serviceKeyText,
} from './identity.js';
export { KernelState, type KernelEntry, readSnapshot, resolveServices } from './kernel-state.js';
export { defaultObjectPath, type KernelMaps, type LoadOptions, type LoadReport, PROGRAMS, unpinDatapath } from './loader.js';
export { layoutTable, layoutTier, type TierLayout } from './tier-layout.js';
export { keyAt, type MapDump, packEntries, valueAt } from './map-dump.js';
export { memoryMaps, MemoryBpfMap } from './memory-map.js';
export { readPinnedControl, readPinnedState, type PinnedState } from './pinned.js';
export {
  type EjectedBackend,
  monotonicNs,
  readBackendHealth,
  readEjected,
  readServiceEjections,
  type ServiceEjections,
} from './ejections.js';
export { type BackendHealth, MAX_EJECTED } from './codecs.js';
export type { TierCounters } from './counters.js';
export { ClaimingWriter } from './claims.js';
export {
  failOpenStatus,
  type FailOpenStatus,
  failsOpen,
  Heartbeat,
  heartbeatIntervalMs,
  LAYOUT_VERSION,
  readControl,
} from './fail-open.js';
export { type Control, control as controlCodec } from './codecs.js';
export { type BulkResult, type ProgrammedTotals, type ReadBackReport, ServiceWriter } from './writer.js';
export {
  type BackendRewrite,
  type DriftDeletions,
  type DriftReport,
  type KernelSnapshot,
  type MirroredService,
  type MirrorView,
  planRepairs,
  type RepairPlan,
  type ServiceRepair,
} from './drift.js';
export * from './types.js';

/** A node's loaded datapath: programs attached, maps pinned, state read back. */
export class Datapath {
  private constructor(
    readonly loaded: LoadedDatapath,
    readonly writer: ServiceWriter,
  ) {}

  static open(opts: LoadOptions): Datapath {
    const loaded = LoadedDatapath.load(opts);
    try {
      return new Datapath(loaded, ServiceWriter.open(loaded.maps));
    } catch (err) {
      loaded.close();
      throw err;
    }
  }

  counters(): TierCounters[] {
    return readCounters(this.loaded.maps.counters);
  }

  /** Releases this process's handles; the pinned datapath keeps serving. */
  close(): void {
    this.loaded.close();
  }
}
