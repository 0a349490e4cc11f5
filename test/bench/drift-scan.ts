/*
 * What one drift scan (ServiceWriter.repairDrift) costs over a large programmed state: by
 * default 10,000 services with 100,000 slots and backends. Times a clean scan (the periodic
 * resync's usual case), how much of it is reading the maps, and a scan that repairs some
 * damage. Reports numbers only; it asserts nothing about time.
 * Run (root, after make build bpffs): npx tsx test/bench/drift-scan.ts
 */
import { Datapath, type ServiceSpec, unpinDatapath } from '../../pkg/datapath/index.js';
import { slotKey } from '../../pkg/datapath/codecs.js';
import { assertKernelPrereqs, cleanupLeftovers, Lab } from '../kernel/harness/index.js';

const SERVICES = Number(process.env.BENCH_SERVICES ?? 10_000);
const ENDPOINTS = Number(process.env.BENCH_ENDPOINTS ?? 10); // 100,000 slots in all
const SCANS = Number(process.env.BENCH_SCANS ?? 5);
const DAMAGED = Number(process.env.BENCH_DAMAGED ?? 100);

const podAddress = (i: number): string => `10.${128 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;
const vip = (s: number): string => `10.96.${s >> 8}.${s & 255}`;

function spec(s: number): ServiceSpec {
  const pods = Array.from({ length: ENDPOINTS }, (_, e) => ({
    address: podAddress(s * ENDPOINTS + e),
    port: 8080,
    nodeId: e % 3,
    terminating: false,
  }));
  return { key: { address: vip(s), port: 80, protocol: 'TCP' }, label: `bench/svc-${s}`, mode: 'FAILOVER',
    tiers: [pods.slice(0, 2), pods.slice(2, 5), pods.slice(5)] };
}

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function main(): Promise<void> {
  assertKernelPrereqs();
  await cleanupLeftovers();
  const lab = await Lab.create('bench-drift');
  const node = await lab.addNode('w1');
  let dp: Datapath | undefined;
  try {
    dp = Datapath.open({ pinRoot: node.pinRoot, cgroupPath: node.cgroupPath });
    const bulk = dp.writer.applyMany(Array.from({ length: SERVICES }, (_, s) => spec(s)));
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
      maps.slots.delete(slotKey.encode({ svcId: dp.writer.serviceId(spec(s).key)!, tier: 0, index: 0 }));
    }
    let t = performance.now();
    const repaired = dp.writer.repairDrift();
    const repairMs = performance.now() - t;
    if (repaired.rewritten.slots !== DAMAGED) throw new Error(`expected ${DAMAGED} slot repairs: ${JSON.stringify(repaired)}`);
    t = performance.now();
    const after = dp.writer.repairDrift();
    const afterMs = performance.now() - t;
    if (after.drifted.length) throw new Error(`drift left after the repair: ${JSON.stringify(after)}`);

    console.log(JSON.stringify({
      services: SERVICES, slots: SERVICES * ENDPOINTS, backends: maps.backends.keys().length,
      cleanScanMs: { median: Math.round(median(clean)), all: clean.map(Math.round) },
      readMapsMs: Math.round(median(reads)),
      damagedServices: DAMAGED, repairScanMs: Math.round(repairMs), repaired: repaired.rewritten,
      cleanScanAfterRepairMs: Math.round(afterMs),
      agentRssMiB: Math.round(process.memoryUsage().rss / 2 ** 20),
    }, null, 2));
  } finally {
    dp?.close();
    unpinDatapath(node.pinRoot);
    await lab.destroy();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
