/*
 * npm run bench:maps -- --json: what nearby's writer costs per endpoint against the floor, the
 * same map writes made from C through libbpf (test/bench/c/map-writer.c). Two paths:
 *   bulk    a first start: ServiceWriter.applyMany, three batch writes (backends, slots, services)
 *   single  services applied one by one: ServiceWriter.apply, element by element
 * Each round gives each side fresh maps in this run's own bpffs directory; the sides alternate
 * which goes first, and the first round's maps are compared byte for byte, so both measured the
 * same writes. Reports numbers only. The last stdout line is the JSON summary: wall times, and
 * the CPU times of both sides over the same writes (cpu_ratio), which on a shared machine do not
 * count the time other jobs ran instead.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ServiceWriter } from '../../../pkg/datapath/index.js';
import { assertKernelPrereqs } from '../../../lab/kernel-lab/index.js';
import { benchProgram } from '../c-programs.js';
import { privatePins } from '../private-pins.js';
import { median, round2, spread } from '../stats.js';
import { benchSpec } from '../writer-fixture.js';
import { contentsOf, createBenchMaps, openBenchMaps } from './pinned-bench-maps.js';
import { timeBatches } from './timed-batches.js';

type Path = 'bulk' | 'single';

const { values: args } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    services: { type: 'string', default: '10000' },
    endpoints: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '5' },
  },
});
const SERVICES = Number(args.services);
const ENDPOINTS = Number(args.endpoints);
const ROUNDS = Number(args.rounds);
const log = (line: string): void => {
  if (!args.json) console.error(line);
};

interface SideTime {
  /** Wall time of the whole write. */
  readonly ns: number;
  /**
   * CPU time of the process meanwhile, user and system (the kernel's share of the writes),
   * every thread (Node's collector and compiler too): on a shared machine the wall time also
   * counts the time other jobs ran instead.
   */
  readonly cpuNs: number;
}

/** The TypeScript writer on fresh maps: the whole write (specs built beforehand), and of it the ns inside batch calls. */
function runTs(dir: string, path: Path): SideTime & { inBatches: number; batchCalls: number } {
  const bench = createBenchMaps(dir);
  try {
    const writer = ServiceWriter.open(bench.maps);
    const batches = timeBatches(bench.maps);
    const specs = Array.from({ length: SERVICES }, (_, s) => benchSpec(s, ENDPOINTS));
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    if (path === 'bulk') {
      const r = writer.applyMany(specs);
      if (r.failed.length > 0) throw r.failed[0]!.error;
    } else {
      for (const spec of specs) writer.apply(spec);
    }
    const ns = Number(process.hrtime.bigint() - t0);
    const cpu = process.cpuUsage(c0);
    const timing = batches();
    return { ns, cpuNs: (cpu.user + cpu.system) * 1000, inBatches: timing.ns, batchCalls: timing.calls };
  } finally {
    bench.close();
  }
}

function runC(dir: string, path: Path): SideTime {
  const out = execFileSync(benchProgram('map-writer'), [path, dir, String(SERVICES), String(ENDPOINTS)], { encoding: 'utf8' });
  const { ns, cpu_ns: cpuNs } = JSON.parse(out.trim()) as { ns: number; cpu_ns: number };
  return { ns, cpuNs };
}

function sameMaps(a: string, b: string): boolean {
  const [ma, mb] = [openBenchMaps(a), openBenchMaps(b)];
  try {
    return JSON.stringify(contentsOf(ma.maps)) === JSON.stringify(contentsOf(mb.maps));
  } finally {
    ma.close();
    mb.close();
  }
}

function main(): void {
  assertKernelPrereqs();
  const pins = privatePins('maps');
  for (const leftover of pins.removedLeftovers) console.error(`removed pins of a crashed run: ${leftover}`);
  const endpoints = SERVICES * ENDPOINTS;
  const perEndpoint: Record<Path, { ts: number[]; c: number[] }> = { bulk: { ts: [], c: [] }, single: { ts: [], c: [] } };
  const cpuPerEndpoint: Record<Path, { ts: number[]; c: number[] }> = { bulk: { ts: [], c: [] }, single: { ts: [], c: [] } };
  let identical = true;
  // Bulk only: the TypeScript writer's time inside its batch calls, per endpoint, by round.
  const tsInBatches: number[] = [];
  let batchCalls = 0;
  try {
    for (let r = 0; r < ROUNDS; r++) {
      for (const path of ['bulk', 'single'] as const) {
        const dirs = { ts: join(pins.dir, `${r}-${path}-ts`), c: join(pins.dir, `${r}-${path}-c`) };
        mkdirSync(dirs.ts);
        mkdirSync(dirs.c);
        const sides = r % 2 === 0 ? (['ts', 'c'] as const) : (['c', 'ts'] as const);
        for (const side of sides) {
          if (side === 'ts') {
            const ts = runTs(dirs.ts, path);
            perEndpoint[path].ts.push(ts.ns / endpoints);
            cpuPerEndpoint[path].ts.push(ts.cpuNs / endpoints);
            if (path === 'bulk') {
              tsInBatches.push(ts.inBatches / endpoints);
              batchCalls = ts.batchCalls;
            }
          } else {
            const c = runC(dirs.c, path);
            perEndpoint[path].c.push(c.ns / endpoints);
            cpuPerEndpoint[path].c.push(c.cpuNs / endpoints);
          }
        }
        if (r === 0) identical &&= sameMaps(dirs.ts, dirs.c);
        log(
          `round ${r + 1} ${path}: ts ${perEndpoint[path].ts.at(-1)!.toFixed(0)} ns/endpoint, c ${perEndpoint[path].c.at(-1)!.toFixed(0)} ns/endpoint`,
        );
        pins.remove();
        mkdirSync(pins.dir, { recursive: true });
      }
    }
  } finally {
    pins.remove();
  }
  if (!identical) throw new Error('the TypeScript writer and the C floor did not write the same map contents: the comparison is void');
  const summary = (times: typeof perEndpoint, path: Path) => {
    const ts = median(times[path].ts);
    const c = median(times[path].c);
    return { ts: round2(ts), c: round2(c), ratio: round2(ts / c) };
  };
  const bulk = summary(perEndpoint, 'bulk');
  const single = summary(perEndpoint, 'single');
  const bulkCpu = summary(cpuPerEndpoint, 'bulk');
  const singleCpu = summary(cpuPerEndpoint, 'single');
  console.log(
    JSON.stringify({
      services: SERVICES,
      endpoints,
      rounds: ROUNDS,
      maps_identical: identical,
      ts_ns_per_endpoint: bulk.ts,
      c_ns_per_endpoint: bulk.c,
      ratio: bulk.ratio,
      single_ts_ns_per_endpoint: single.ts,
      single_c_ns_per_endpoint: single.c,
      single_ratio: single.ratio,
      ts_first_round_bulk_ns_per_endpoint: round2(perEndpoint.bulk.ts[0]!),
      ts_in_batch_calls_ns_per_endpoint: round2(median(tsInBatches)),
      ts_outside_batch_calls_ns_per_endpoint: round2(median(perEndpoint.bulk.ts.map((t, i) => t - tsInBatches[i]!))),
      ts_batch_calls: batchCalls,
      ts_cpu_ns_per_endpoint: bulkCpu.ts,
      c_cpu_ns_per_endpoint: bulkCpu.c,
      cpu_ratio: bulkCpu.ratio,
      single_ts_cpu_ns_per_endpoint: singleCpu.ts,
      single_c_cpu_ns_per_endpoint: singleCpu.c,
      single_cpu_ratio: singleCpu.ratio,
      spread: {
        bulk_ts: round2(spread(perEndpoint.bulk.ts)),
        bulk_c: round2(spread(perEndpoint.bulk.c)),
        single_ts: round2(spread(perEndpoint.single.ts)),
        single_c: round2(spread(perEndpoint.single.c)),
      },
    }),
  );
}

main();
