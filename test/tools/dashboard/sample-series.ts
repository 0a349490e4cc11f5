/*
 * What each dashboard query would return over the sample cluster. Queries are told apart by
 * their metric, outermost function and grouping (see queryKey); a query with no sample here
 * fails the render by name, so a new panel cannot ship with an empty picture.
 */
import type { Target } from './dashboard-types.js';
import { promqlNames } from './promql-names.js';
import * as c from './sample-cluster.js';

export type Labels = Readonly<Record<string, string>>;

export interface Series {
  readonly name: string;
  readonly values: ReadonlyArray<number | null>;
}

interface RawSeries {
  readonly labels: Labels;
  readonly values: readonly number[];
}

export class NoSampleError extends Error {
  constructor(
    readonly key: string,
    readonly expr: string,
  ) {
    super(`no sample data for query ${JSON.stringify(expr)} (key "${key}"): add it to test/tools/dashboard/sample-series.ts`);
    this.name = 'NoSampleError';
  }
}

/** "metric function by(a,b)": what the sample table is keyed by. */
export function queryKey(expr: string): string {
  const names = promqlNames(expr);
  const groups = new Map<string, Set<string>>();
  for (const g of names.groupings) {
    const set = groups.get(g.keyword) ?? new Set<string>();
    g.labels.forEach((l) => set.add(l));
    groups.set(g.keyword, set);
  }
  const grouping = [...groups].map(([k, labels]) => `${k}(${[...labels].join(',')})`).join(' ') || 'by()';
  return `${names.metrics[0] ?? '-'} ${names.functions[0] ?? '-'} ${grouping}`;
}

const each = (f: (i: number) => number): number[] => c.indexes().map(f);
const one = (f: (i: number) => number, labels: Labels = {}): RawSeries[] => [{ labels, values: each(f) }];
const perNode = (f: (node: number, i: number) => number): RawSeries[] =>
  c.NODES.map((node, n) => ({ labels: { node }, values: each((i) => f(n, i)) }));

function tierRate(tier: number, i: number): number {
  return c.SERVICES.reduce((sum, s) => sum + c.connectRate(s, i) * c.tierShares(s, i)[tier]!, 0);
}

/** Trailing sum over `minutes` points: what increase(x[1h]) shows. */
function trailing(f: (i: number) => number, minutes: number): (i: number) => number {
  return (i) => {
    let sum = 0;
    for (let k = Math.max(0, i - minutes + 1); k <= i; k++) sum += f(k);
    return sum;
  };
}

const SAMPLES: Readonly<Record<string, (expr: string) => RawSeries[]>> = {
  'nearby_last_sync_timestamp_seconds count by()': () => one(() => c.NODES.length),
  'nearby_connects_total sum by()': () => one((i) => tierRate(0, i) / [0, 1, 2].reduce((s, t) => s + tierRate(t, i), 0)),
  'nearby_services_programmed sum by()': () => one(() => Object.values(c.SERVICES_BY_MODE).reduce((a, b) => a + b, 0)),
  'nearby_last_sync_timestamp_seconds max by()': () => one((i) => Math.max(...c.NODES.map((_, n) => c.sinceLastSync(n, i)))),
  'nearby_map_write_errors_total sum by()': () => one(trailing(c.mapWriteErrors, 60)),
  'nearby_objects_rejected max without(reason)': () => one(c.objectsRejected),
  'nearby_connects_total sum by(service)': () =>
    c.SERVICES.map((s) => ({ labels: { service: s.name }, values: each((i) => c.tierShares(s, i)[0]) })),
  'nearby_connects_total sum by(tier)': () =>
    [0, 1, 2].map((tier) => ({ labels: { tier: String(tier) }, values: each((i) => tierRate(tier, i)) })),
  'nearby_connects_tier0_ratio min by(service)': () =>
    c.SERVICES.map((s) => ({ labels: { service: s.name }, values: each(() => c.TIER0_SINCE_START[s.name] ?? 1) })),
  'nearby_connect_failures_total sum by(service)': () =>
    c.SERVICES.map((s) => ({ labels: { service: s.name }, values: each((i) => c.failureRate(s, i)) })),
  'nearby_endpoints_programmed sum by(mode,tier)': () =>
    c.endpointsByModeTier(0).map(({ mode, tier }) => ({
      labels: { mode, tier },
      values: each((i) => c.endpointsByModeTier(i).find((e) => e.mode === mode && e.tier === tier)!.value),
    })),
  'nearby_services_programmed sum by(mode)': () =>
    Object.entries(c.SERVICES_BY_MODE).map(([mode, n]) => ({ labels: { mode }, values: each(() => n) })),
  'nearby_map_write_errors_total sum by(map)': () => one(c.mapWriteErrors, { map: 'slots' }),
  'nearby_services_failed sum by(reason)': () => one(c.servicesFailed, { reason: 'map-full' }),
  'nearby_map_writes_total sum by(map)': () =>
    (['slots', 'backends', 'services'] as const).map((map) => ({ labels: { map }, values: each((i) => c.mapWrites(map, i)) })),
  'nearby_drift_repaired_total sum by(map)': () => one(c.driftRepaired, { map: 'services' }),
  'nearby_objects_rejected max by(reason)': () => one(c.objectsRejected, { reason: 'bad-ip' }),
  'nearby_planner_warnings max by(reason)': () =>
    (['unknown-policy', 'port-mismatch'] as const).map((reason) => ({
      labels: { reason },
      values: each((i) => c.plannerWarnings(reason, i)),
    })),
  'nearby_reconcile_duration_seconds_bucket histogram_quantile by(le,kind)': (expr) => {
    const q = Number(/histogram_quantile\(\s*([0-9.]+)/.exec(expr)?.[1] ?? '0.5');
    return (['incremental', 'full'] as const).map((kind) => ({ labels: { kind }, values: each((i) => c.reconcileQuantile(q, kind, i)) }));
  },
  'nearby_reconcile_duration_seconds_count sum by(outcome,kind)': () =>
    (
      [
        ['ok', 'incremental'],
        ['ok', 'full'],
        ['partial', 'full'],
      ] as const
    ).map(([outcome, kind]) => ({
      labels: { outcome, kind },
      values: each((i) => c.reconcilePasses(outcome, kind, i)),
    })),
  'nearby_watch_restarts_total sum by()': () => one(c.watchRestarts),
  'nearby_watch_relists_total sum by()': () => one(c.relists),
  'nearby_last_sync_timestamp_seconds time by()': () => perNode(c.sinceLastSync),
  'nearby_process_resident_memory_bytes - by()': () => perNode(c.residentBytes),
  'nearby_process_cpu_seconds_total rate by()': () => perNode(c.cpuCores),
};

/** Grafana's legend: {{label}} replaced by the series' value; the label set when there is no format. */
export function legendName(format: string | undefined, labels: Labels): string {
  if (format && format !== '__auto') return format.replace(/\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g, (_, l: string) => labels[l] ?? '');
  const pairs = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  return pairs.length > 0 ? `{${pairs.join(', ')}}` : 'Value';
}

export function sampleSeries(target: Target): Series[] {
  const key = queryKey(target.expr);
  const sample = SAMPLES[key];
  if (!sample) throw new NoSampleError(key, target.expr);
  return sample(target.expr).map((s) => ({ name: legendName(target.legendFormat, s.labels), values: s.values }));
}

/** Time of each sample point, ms since the epoch. */
export function sampleTimes(): number[] {
  const start = c.WINDOW.endMs - (c.WINDOW.points - 1) * c.WINDOW.stepMs;
  return c.indexes().map((i) => start + i * c.WINDOW.stepMs);
}
