/**
 * pkg/contract: the few numbers the agent and the BPF program must agree on, with no code behind
 * them. The planner (pure) and the datapath (libbpf) both import them from here, so neither has
 * to reach into the other, and test/unit/datapath/btf-contract.test.ts holds them to bpf/nearby.h.
 */

/** Tiers per service: NEARBY_MAX_TIERS, the length of count[] and weight[] in nearby_svc_value. */
export const MAX_TIERS = 8;

/** How a service picks its tier, with its value in enum nearby_mode. */
export const Mode = { RANDOM: 0, FAILOVER: 1, STRICT: 2, WEIGHTED: 3, SPILLOVER: 4 } as const;
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

/** Envoy's default overprovisioning factor, 1.4, in percent: NEARBY_DEFAULT_OVERPROVISION. */
export const DEFAULT_OVERPROVISION_PERCENT = 140;

/**
 * A tier's health in whole percent for SPILLOVER (Envoy's priority load):
 * min(100, overprovision x healthy / endpoints), with endpoints the tier's non-terminating
 * endpoints and healthy those ready and not ejected. A tier without endpoints has none.
 * spill_tier() in bpf/nearby.bpf.c computes the same in the kernel: keep the two in step.
 */
export function tierHealth(endpoints: number, healthy: number, overprovisionPercent: number): number {
  if (endpoints <= 0) return 0;
  return Math.min(100, Math.floor((overprovisionPercent * Math.max(0, healthy)) / endpoints));
}

/**
 * The share of connects (whole percent, summing to 100, or all 0 when no tier has health) each
 * tier takes, given the tiers' healths, closest first: Envoy's priority load. Tier 0 takes
 * min(100, health0), each later tier min(what remains, its health); when the healths add up to
 * less than 100 they are scaled up first (Envoy's normalisation), and what the integer division
 * leaves goes to the first healthy tier. With healths 70 and 50: 70/30.
 *
 * The one statement of the rule on the agent's side (explain, tests). spill_tier() in
 * bpf/nearby.bpf.c is the same rule in the kernel and must agree: a unit test and the kernel
 * spillover test check both against one table (test/unit/planner/priority-load-table.ts).
 */
export function priorityLoad(healths: readonly number[]): number[] {
  const sum = healths.reduce((a, h) => a + h, 0);
  if (sum === 0) return healths.map(() => 0);
  const norm = Math.min(100, sum);
  let remaining = 100;
  const loads = healths.map((h) => {
    const load = Math.min(remaining, Math.floor((h * 100) / norm));
    remaining -= load;
    return load;
  });
  const first = healths.findIndex((h) => h > 0);
  loads[first]! += remaining;
  return loads;
}
