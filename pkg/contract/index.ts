/**
 * pkg/contract: the few numbers the agent and the BPF program must agree on, with no code behind
 * them. The planner (pure) and the datapath (libbpf) both import them from here, so neither has
 * to reach into the other, and test/unit/datapath/btf-contract.test.ts holds them to bpf/nearby.h.
 */

/** Tiers per service: NEARBY_MAX_TIERS, the length of count[] and weight[] in nearby_svc_value. */
export const MAX_TIERS = 8;

/** How a service picks its tier, with its value in enum nearby_mode. */
export const Mode = { RANDOM: 0, FAILOVER: 1, STRICT: 2, WEIGHTED: 3 } as const;
export type ModeName = keyof typeof Mode;

/** Every mode, in the enum's order. */
export const MODE_NAMES: readonly ModeName[] = Object.freeze((Object.keys(Mode) as ModeName[]).sort((a, b) => Mode[a] - Mode[b]));

/**
 * How a service picks an endpoint inside the tier its mode chose: DestinationRule's
 * loadBalancer.simple at L4. RANDOM is uniform; ROUND_ROBIN rotates per service; LEAST_REQUEST
 * takes the less loaded of two random endpoints by open connections (LEAST_CONN reads the same).
 * MAGLEV (consistentHash) hashes the client into the tier, whose slots are then a Maglev lookup
 * table rather than one slot per endpoint (docs/architecture.md, the slots map).
 * The values are what the kernel stores with the service entry.
 */
export const Balance = { RANDOM: 0, ROUND_ROBIN: 1, LEAST_REQUEST: 2, MAGLEV: 3 } as const;
export type BalanceName = keyof typeof Balance;

/**
 * A service's passive-ejection settings (docs/outlier-detection.md): a backend whose TCP connects
 * fail consecutiveFailures times in a row is skipped for baseEjectionMs x (times ejected),
 * capped at max(300 s, base). The kernel's outlier map holds the same four numbers.
 */
export interface OutlierSettings {
  /** Failed connects in a row that eject a backend; 0 means never eject. */
  readonly consecutiveFailures: number;
  /** 0..100: share of the service's endpoints ejected at once; one can always be. */
  readonly maxEjectionPercent: number;
  readonly baseEjectionMs: number;
  /** The ejection multiplier decays by one per interval a backend stays healthy. */
  readonly intervalMs: number;
}
