/**
 * The priority-load table both sides are held to: pkg/contract's priorityLoad() (unit test) and
 * the kernel's spill_tier() (test/kernel/datapath-spillover.test.ts). One table, so the two
 * statements of the rule cannot drift apart unnoticed.
 */

/** Healths in whole percent, closest tier first, and the loads Envoy's rule gives them. */
export const HEALTH_CASES: ReadonlyArray<{ readonly healths: readonly number[]; readonly loads: readonly number[] }> = [
  { healths: [70, 50], loads: [70, 30] },
  { healths: [100, 100], loads: [100, 0] },
  { healths: [20, 20], loads: [50, 50] }, // scaled up: the healths sum to 40
  { healths: [33, 33, 33], loads: [34, 33, 33] }, // the rounding remainder goes to the first healthy tier
  { healths: [0, 40], loads: [0, 100] },
  { healths: [0, 0], loads: [0, 0] },
  { healths: [10, 0, 30], loads: [25, 0, 75] },
];

/** Envoy's default overprovisioning factor, in percent. */
export const FACTOR = 140;

/**
 * Tier 0 with n = 4 and h = 4..0, tier 1 healthy (4 of 4): tier 0's share of connects, the
 * issue's example (100, 100, 70, 35, 0 with factor 1.4).
 */
export const TIER0_OF_FOUR: ReadonlyArray<{ readonly healthy: number; readonly loads: readonly [number, number] }> = [
  { healthy: 4, loads: [100, 0] },
  { healthy: 3, loads: [100, 0] },
  { healthy: 2, loads: [70, 30] },
  { healthy: 1, loads: [35, 65] },
  { healthy: 0, loads: [0, 100] },
];
