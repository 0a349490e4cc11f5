/** Bounds that keep every harness call finite in time and memory. */

export const DEFAULT_CONNECT_TIMEOUT_MS = 2000;
export const MAX_CONNECT_TIMEOUT_MS = 30_000;
export const MAX_CONNECT_COUNT = 10_000;
export const MAX_LOOP_COUNT = 200_000;
export const MAX_LOOP_DURATION_MS = 5 * 60_000;

/** Slack on top of the work a helper was asked to do before the harness gives up on it. */
export const RPC_SLACK_MS = 5000;
export const HELPER_START_TIMEOUT_MS = 15_000;
