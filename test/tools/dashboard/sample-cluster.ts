/*
 * Six hours of a made-up three-node cluster, so the dashboard picture shows what an operator
 * would see: steady locality, then a bad rollout that empties shop/cart's subzone1 for 45
 * minutes (its tier-0 share falls, traffic fails over to tier 1 and 2, endpoints and map writes
 * move), a Service too big for the slots map earlier on, an API server upgrade that makes every
 * watch relist, and a hand edit of the maps that the resync puts back. Deterministic: the same
 * picture every run.
 */
import { seededRandom } from '../../bench/synthetic-cluster.js';

export const WINDOW = {
  /** 14:00 UTC on a fixed day: the picture does not change with the clock. */
  endMs: Date.UTC(2025, 5, 3, 14, 0, 0),
  stepMs: 60_000,
  points: 361,
} as const;

export const NODES = ['ambient-worker', 'ambient-worker2', 'ambient-worker3'] as const;

export interface SampleService {
  readonly name: string;
  readonly mode: 'FAILOVER' | 'STRICT' | 'RANDOM';
  /** Connects per second over all nodes. */
  readonly rate: number;
  /** Usual share of connects in tier 0, 1 and 2. */
  readonly tiers: readonly [number, number, number];
}

export const SERVICES: readonly SampleService[] = [
  { name: 'kube-system/kube-dns', mode: 'RANDOM', rate: 210, tiers: [1, 0, 0] },
  { name: 'shop/cart', mode: 'FAILOVER', rate: 140, tiers: [0.985, 0.012, 0.003] },
  { name: 'shop/checkout', mode: 'FAILOVER', rate: 60, tiers: [0.93, 0.05, 0.02] },
  { name: 'sample/helloworld', mode: 'FAILOVER', rate: 35, tiers: [1, 0, 0] },
  { name: 'payments/ledger', mode: 'STRICT', rate: 18, tiers: [1, 0, 0] },
];

/** Minutes (point indexes) where things happen. */
export const EVENTS = {
  slotsFull: [95, 118],
  rejectedFrom: 60,
  portMismatch: [150, 171],
  cartOutage: [200, 245],
  apiServerUpgrade: 270,
  ledgerRestart: [282, 287],
  driftRepair: 300,
  checkoutScaleUp: 310,
} as const;

const within = (i: number, [from, to]: readonly [number, number]): boolean => i >= from && i < to;

/** The benchmark's seeded PRNG: the picture is the same on every run. */
const random = seededRandom;

// eslint-disable-next-line @typescript-eslint/no-misused-spread -- a hash needs only determinism, not graphemes.
const hash = (text: string): number => [...text].reduce((h, c) => Math.imul(h ^ c.charCodeAt(0), 16777619), 2166136261);

/** Slow variation (traffic through the day) plus jitter, around 1. */
export function wobble(i: number, key: string, slow = 0.15, jitter = 0.04): number {
  const rnd = random(hash(key) + i * 7919);
  const phase = (hash(key) % 628) / 100;
  return 1 + slow * Math.sin(phase + (i / WINDOW.points) * Math.PI * 1.6) + jitter * (rnd() * 2 - 1);
}

export function noise(i: number, key: string): number {
  return random(hash(key) + i * 104729)();
}

export const indexes = (): number[] => Array.from({ length: WINDOW.points }, (_, i) => i);

/** Share of a service's connects per tier at minute i. */
export function tierShares(service: SampleService, i: number): [number, number, number] {
  if (service.name === 'shop/cart' && within(i, EVENTS.cartOutage)) {
    // ambient-worker's subzone1 instances are gone: its third of the traffic fails over.
    const lost = 0.62 + 0.05 * (noise(i, 'cart-lost') - 0.5);
    return [1 - lost, lost * 0.72, lost * 0.28];
  }
  if (service.mode !== 'FAILOVER') return [1, 0, 0];
  const drift = 0.01 * (noise(i, service.name) - 0.5);
  const t0 = Math.min(1, service.tiers[0] + drift);
  const rest = 1 - t0;
  const split = service.tiers[1] + service.tiers[2] > 0 ? service.tiers[1] / (service.tiers[1] + service.tiers[2]) : 0.8;
  return [t0, rest * split, rest * (1 - split)];
}

export function connectRate(service: SampleService, i: number): number {
  return service.rate * wobble(i, `rate-${service.name}`);
}

export function failureRate(service: SampleService, i: number): number {
  if (service.name === 'shop/cart' && within(i, [EVENTS.cartOutage[0], EVENTS.cartOutage[0] + 6])) return 3 + 2 * noise(i, 'cart-fail');
  if (service.name === 'payments/ledger' && within(i, EVENTS.ledgerRestart)) return 4 + noise(i, 'ledger-refused');
  return 0.02 * noise(i, `fail-${service.name}`);
}

/** Endpoint slots programmed by mode and tier, summed over the nodes. */
export function endpointsByModeTier(i: number): Array<{ mode: string; tier: string; value: number }> {
  const outage = within(i, EVENTS.cartOutage) ? 3 : 0;
  const scaled = i >= EVENTS.checkoutScaleUp ? 3 : 0;
  return [
    { mode: 'FAILOVER', tier: '0', value: 14 - outage + scaled / 3 },
    { mode: 'FAILOVER', tier: '1', value: 10 - outage + scaled / 3 },
    { mode: 'FAILOVER', tier: '2', value: 30 - outage + scaled / 3 },
    { mode: 'STRICT', tier: '0', value: 3 - (within(i, EVENTS.ledgerRestart) ? 1 : 0) },
    { mode: 'RANDOM', tier: '0', value: 9 },
  ];
}

export const SERVICES_BY_MODE = { FAILOVER: 9, STRICT: 3, RANDOM: 12 } as const;

/** Minutes with a burst of map writes: rollouts. */
function burst(i: number): number {
  for (const at of [EVENTS.cartOutage[0], EVENTS.cartOutage[1], EVENTS.checkoutScaleUp, 40, 160, 335]) {
    if (i >= at && i < at + 3) return 1 - (i - at) / 3;
  }
  return 0;
}

export function mapWrites(map: 'services' | 'slots' | 'backends', i: number): number {
  const base = { services: 0.01, slots: 0.06, backends: 0.03 }[map];
  const peak = { services: 0.4, slots: 4.5, backends: 1.6 }[map];
  return base * (0.5 + noise(i, `writes-${map}`)) + peak * burst(i);
}

export function mapWriteErrors(i: number): number {
  // The resync retries the Service that does not fit once a minute, and fails each time.
  return within(i, EVENTS.slotsFull) ? 1 : 0;
}

export function servicesFailed(i: number): number {
  return within(i, EVENTS.slotsFull) ? 1 : 0;
}

export function driftRepaired(i: number): number {
  return i === EVENTS.driftRepair ? 2 : 0;
}

export function objectsRejected(i: number): number {
  return i >= EVENTS.rejectedFrom ? 1 : 0;
}

export function plannerWarnings(reason: 'unknown-policy' | 'port-mismatch', i: number): number {
  if (reason === 'unknown-policy') return 1;
  return within(i, EVENTS.portMismatch) ? 2 : 0;
}

/** Reconcile latency quantiles in seconds. */
export function reconcileQuantile(q: number, kind: 'incremental' | 'full', i: number): number {
  const busy = burst(i) > 0 || within(i, EVENTS.cartOutage) ? 1.8 : 1;
  const base = kind === 'incremental' ? (q >= 0.99 ? 0.0042 : 0.0009) : q >= 0.99 ? 0.085 : 0.041;
  return base * busy * wobble(i, `lat-${kind}-${q}`, 0.08, 0.12);
}

export function reconcilePasses(outcome: 'ok' | 'partial', kind: 'incremental' | 'full', i: number): number {
  const resyncs = NODES.length / 60;
  if (kind === 'full') {
    if (outcome === 'partial') return within(i, EVENTS.slotsFull) ? 1 / 60 : 0;
    return within(i, EVENTS.slotsFull) ? resyncs - 1 / 60 : resyncs;
  }
  if (outcome === 'partial') return 0;
  return 0.04 * (0.5 + noise(i, 'passes')) + 1.2 * burst(i);
}

export function watchRestarts(i: number): number {
  // Four kinds per agent, each watch ended by the server every 5-10 minutes.
  const r = noise(i, 'watch') * 3.2;
  return i === EVENTS.apiServerUpgrade ? 12 : Math.floor(r);
}

export function relists(i: number): number {
  return i === EVENTS.apiServerUpgrade ? 12 : 0;
}

/**
 * Seconds since the node's agent last finished a pass, as a once-a-minute scrape sees it: the
 * 60 s resync keeps the same phase per node, and a change now and then ends a pass in between.
 */
export function sinceLastSync(node: number, i: number): number {
  const sinceResync = 13 + node * 19 + 3 * noise(i, `phase-${node}`);
  return noise(i, `change-${node}`) < 0.06 ? noise(i, `at-${node}`) * sinceResync : sinceResync;
}

export function residentBytes(node: number, i: number): number {
  const base = [96, 94, 91][node]! * 1024 * 1024;
  const sawtooth = ((i + node * 17) % 45) / 45;
  return base + sawtooth * 6 * 1024 * 1024 + (within(i, EVENTS.cartOutage) ? 3 * 1024 * 1024 : 0);
}

export function cpuCores(node: number, i: number): number {
  return 0.004 + 0.003 * noise(i, `cpu-${node}`) + 0.045 * burst(i) + (i % 60 === node * 20 ? 0.01 : 0);
}

/** Share of all connects since the counters began that stayed in tier 0, on the worst node. */
export const TIER0_SINCE_START: Readonly<Record<string, number>> = {
  'kube-system/kube-dns': 1,
  'shop/cart': 0.874,
  'shop/checkout': 0.912,
  'sample/helloworld': 1,
  'payments/ledger': 1,
};
