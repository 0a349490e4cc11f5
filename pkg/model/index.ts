/**
 * pkg/model: the immutable, typed view of the cluster objects nearby reads, and the conversion
 * from parsed Kubernetes objects into it.
 */
export type {
  AddressType,
  Endpoint,
  EndpointConditions,
  EndpointPort,
  EndpointSlice,
  IpAddress,
  IpFamily,
  Labels,
  Namespace,
  Node,
  ObjectReference,
  Protocol,
  Rejection,
  RejectionCode,
  Service,
  ServicePort,
  Snapshot,
} from './types.js';
export { REJECTION_CODES, SERVICE_NAME_LABEL } from './types.js';
export { convertObject, freezeModelObjects, type Conversion, type ModelObject } from './from-k8s.js';
export { assembleSnapshot, buildSnapshot, type SnapshotBuild } from './snapshot.js';
export { addressSortKey, parseIp } from '../ip/index.js';
export { SnapshotStore, type RawChange, type SnapshotDelta } from './store.js';
export { keepReadFields } from './read-fields.js';
export { isWatchedKind, kindInfo, WATCHED_KINDS, type WatchedKind, type WatchedKindInfo } from './kinds.js';
