/*
 * What one drift scan (ServiceWriter.repairDrift) costs over a large programmed state: by
 * default 10,000 services with 100,000 slots and backends. Times a clean scan (the periodic
 * resync's usual case), how much of it is reading the maps, and a scan that repairs some
 * damage. Reports numbers only; it asserts nothing about time.
 * Run (root, after make build bpffs): npx tsx test/bench/drift-scan.ts
 */
import { benchSpec, runOnBenchNode } from './writer-fixture.js';
import { Datapath } from '../../pkg/datapath/index.js';
import { slotKey } from '../../pkg/datapath/codecs.js';

const SERVICES = Number(process.env.BENCH_SERVICES ?? 10_000);
const ENDPOINTS = Number(process.env.BENCH_ENDPOINTS ?? 10); // 100,000 slots in all
const SCANS = Number(process.env.BENCH_SCANS ?? 5);
const DAMAGED = Number(process.env.BENCH_DAMAGED ?? 100);

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

runOnBenchNode('bench-drift', (node) => {
  let dp: Datapath | undefined;
  try {
    dp = Datapath.open({ pinRoot: node.pinRoot, cgroupPath: node.cgroupPath });
    const bulk = dp.writer.applyMany(Array.from({ length: SERVICES }, (_, s) => benchSpec(s, ENDPOINTS)));
    if (bulk.failed.length) throw bulk.failed[0]!.error;
    const { maps } = dp.loaded;

    const clean: number[] = [];
    for (let i = 0; i < SCANS; i++) {
      const t = performance.now();
      const report = dp.writer.repairDrift();
      clean.push(performance.now() - t);
      if (report.drifted.length || report.strays.length) throw new Error(`clean state drifted: ${JSON.stringify(report)}`);
    }
    const reads: number[] = [];
    for (let i = 0; i < SCANS; i++) {
      const t = performance.now();
      // What repairDrift reads: each map whole, packed.
      maps.services.dump();
      maps.slots.dump();
      maps.backends.dump();
      reads.push(performance.now() - t);
    }

    // Damage: one slot deleted in each of DAMAGED services.
    for (let s = 0; s < DAMAGED; s++) {
      maps.slots.delete(slotKey.encode({ svcId: dp.writer.serviceId(benchSpec(s, ENDPOINTS).key)!, tier: 0, index: 0 }));
    }
    let t = performance.now();
    const repaired = dp.writer.repairDrift();
    const repairMs = performance.now() - t;
    if (repaired.rewritten.slots !== DAMAGED) throw new Error(`expected ${DAMAGED} slot repairs: ${JSON.stringify(repaired)}`);
    t = performance.now();
    const after = dp.writer.repairDrift();
    const afterMs = performance.now() - t;
    if (after.drifted.length) throw new Error(`drift left after the repair: ${JSON.stringify(after)}`);

    console.log(
      JSON.stringify(
        {
          services: SERVICES,
          slots: SERVICES * ENDPOINTS,
          backends: maps.backends.keys().length,
          cleanScanMs: { median: Math.round(median(clean)), all: clean.map(Math.round) },
          readMapsMs: Math.round(median(reads)),
          damagedServices: DAMAGED,
          repairScanMs: Math.round(repairMs),
          repaired: repaired.rewritten,
          cleanScanAfterRepairMs: Math.round(afterMs),
          agentRssMiB: Math.round(process.memoryUsage().rss / 2 ** 20),
        },
        null,
        2,
      ),
    );
  } finally {
    dp?.close();
  }
});
