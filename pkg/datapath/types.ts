/*
 * The datapath's vocabulary. It speaks of services, tiers and backends, never of Kubernetes:
 * the reconciler translates a plan into these.
 */
import type { BalanceName, ModeName, OutlierSettings } from '../contract/index.js';

export type Family = 4 | 6;
export type Protocol = 'TCP' | 'UDP';

export { Balance, type BalanceName, MAX_TIERS, Mode, type ModeName } from '../contract/index.js';
/** Tier sizes are __u16 in the service value. */
export const MAX_TIER_SIZE = 0xffff;

/** What an application dials. */
export interface ServiceKey {
  readonly address: string;
  readonly port: number;
  readonly protocol: Protocol;
}

/** Where a connect may be sent. Backends are shared by address:port across services. */
export interface BackendSpec {
  readonly address: string;
  readonly port: number;
  /** The caller's id for the backend's node (0 = unknown). */
  readonly nodeId: number;
  readonly terminating: boolean;
}

export interface ServiceSpec {
  readonly key: ServiceKey;
  /** Names the service in errors and logs, e.g. "sample/helloworld". */
  readonly label: string;
  readonly mode: ModeName;
  /** Closest tier first; at most MAX_TIERS, empty tiers allowed. */
  readonly tiers: ReadonlyArray<readonly BackendSpec[]>;
  /** WEIGHTED only: one weight per tier. */
  readonly weights?: readonly number[];
  /** How an endpoint is picked inside the chosen tier; RANDOM when absent. */
  readonly balance?: BalanceName;
  /** Passive ejection of failing TCP backends; none when absent (docs/outlier-detection.md). */
  readonly outlier?: OutlierSpec;
  /** Claimed under nearby's own service-proxy-name: never fails open (map claims). */
  readonly exclusive?: true;
  /** Session affinity: seconds a client (network namespace) keeps its backend since it last used
   * it; none when absent or 0 (docs/semantics.md, "Session affinity"). */
  readonly affinitySeconds?: number;
  /** SPILLOVER mode only: what the kernel computes each tier's health from. */
  readonly spillover?: SpilloverSpec;
}

/**
 * SPILLOVER (docs/outlier-detection.md, "Gradual spillover"): per tier, n (endpoints not
 * terminating, ready or not) and the distinct ready endpoints programmed, with the
 * overprovisioning factor; the kernel subtracts the tier's ejections at each connect.
 */
export interface SpilloverSpec {
  /** 140 = Envoy's 1.4. */
  readonly overprovisionPercent: number;
  /** One per tier (MAX_TIERS at most): n. */
  readonly endpoints: readonly number[];
  /** One per tier: ready endpoints, counted once each (a MAGLEV table repeats them). */
  readonly ready: readonly number[];
}

/** A service's passive-ejection settings, consecutiveFailures 1.. (pkg/contract). */
export type OutlierSpec = OutlierSettings;

/** A service as it is in the kernel maps, read back or just written. */
export interface ProgrammedService {
  readonly key: ServiceKey;
  readonly id: number;
  readonly mode: ModeName;
  readonly balance: BalanceName;
  readonly tiers: ReadonlyArray<readonly ProgrammedBackend[]>;
  readonly weights: readonly number[];
  /** Absent when the service never ejects. */
  readonly outlier?: OutlierSpec;
  /** Absent when the service has no session affinity. */
  readonly affinitySeconds?: number;
  /** Absent unless the entry carries SPILLOVER's counts. */
  readonly spillover?: SpilloverSpec;
}

export interface ProgrammedBackend extends BackendSpec {
  readonly id: number;
}

/** Map capacities, fixed at load time. */
export interface MapSizes {
  readonly services: number;
  readonly backends: number;
  readonly slots: number;
  readonly revNat: number;
  readonly counters: number;
}

/** 10,000 services x 8 ports, 150,000 endpoints, and slots for each endpoint in two services. */
export const DEFAULT_MAP_SIZES: MapSizes = {
  services: 80_000,
  backends: 150_000,
  slots: 300_000,
  revNat: 65_536,
  counters: 640_000,
};
