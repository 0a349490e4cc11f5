/**
 * pkg/model: the immutable, typed view of the cluster objects nearby reads, and the conversion
 * from parsed Kubernetes objects into it.
 */
export type {
  AddressType,
  Endpoint,
  EndpointConditions,
  EndpointHints,
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
export { REJECTION_CODES, SERVICE_NAME_LABEL, SERVICE_PROXY_NAME_LABEL } from './types.js';
export { convertObject, freezeModelObjects, type Conversion, type ModelObject } from './from-k8s.js';
export { assembleSnapshot, buildSnapshot, type SnapshotBuild } from './snapshot.js';
export { addressSortKey, parseIp } from '../ip/index.js';
export { SnapshotStore, type RawChange, type SnapshotDelta } from './store.js';
export { keepReadFields } from './read-fields.js';
export { keepRemoteReadFields } from './remote-read-fields.js';
export {
  isWatchedKind,
  kindInfo,
  MODEL_KINDS,
  WATCHED_KINDS,
  type OptionalKind,
  type RequiredKind,
  type WatchedKind,
  type WatchedKindInfo,
} from './kinds.js';
export type {
  ConsistentHashKind,
  HashTable,
  DestinationRule,
  LoadBalancer,
  LocalityDistribute,
  LocalityFailover,
  LocalityLbSetting,
  PortLoadBalancer,
  SimpleLbName,
} from './destination-rule-types.js';
export { SIMPLE_LB_NAMES } from './destination-rule-types.js';
export { localityProblem } from './destination-rule.js';
export { OUTLIER_DEFAULTS, parseDurationMs, readOutlierDetection } from './outlier-detection.js';
export { DEFAULT_AFFINITY_TIMEOUT_SECONDS, MAX_AFFINITY_TIMEOUT_SECONDS } from './session-affinity.js';
export * from './topology-labels.js';
export { clusterKey, DEFAULT_LOCAL_CLUSTER, inCluster, isClusterObjects, type ClusterObjects } from './clusters.js';
