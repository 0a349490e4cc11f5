/*
 * What the ServiceWriter keeps in memory for a large programmed state: by default 10,000
 * services with 100,000 slots and backends. Measures the heap (JS objects plus Buffer memory)
 * after a forced GC, before and after the bulk load, after a drift scan and after a restart's
 * read-back. The specs are measured both held (as the agent's desired state holds them, so
 * strings the writer shares with them cost nothing) and dropped (everything the writer holds).
 * Reports numbers only; it asserts nothing about size.
 * Run (root, after make build bpffs): npx tsx --expose-gc test/bench/writer-memory.ts
 */
import { benchSpec, runOnBenchNode } from './writer-fixture.js';
import { Datapath, type ServiceSpec } from '../../pkg/datapath/index.js';

const SERVICES = Number(process.env.BENCH_SERVICES ?? 10_000);
const ENDPOINTS = Number(process.env.BENCH_ENDPOINTS ?? 10); // 100,000 backends in all

const gc = (globalThis as { gc?: () => void }).gc;

/** Heap in use after a full collection, JS objects and Buffer memory together, in MiB. */
function retainedMiB(): number {
  gc!();
  gc!();
  const m = process.memoryUsage();
  return (m.heapUsed + m.arrayBuffers) / 2 ** 20;
}

const mib = (n: number): number => Math.round(n * 10) / 10;

/**
 * Each step runs in its own function so that no stale register of the measuring frame keeps
 * a dropped object alive.
 */
const holder: { dp?: Datapath; specs?: ServiceSpec[] } = {};

function bulkLoad(): void {
  const bulk = holder.dp!.writer.applyMany(holder.specs!);
  if (bulk.failed.length) throw bulk.failed[0]!.error;
}

function driftScan(): void {
  const drift = holder.dp!.writer.repairDrift();
  if (drift.drifted.length || drift.strays.length) throw new Error('clean state drifted');
}

runOnBenchNode('bench-memory', (node) => {
  if (!gc) throw new Error('run with --expose-gc (npx tsx --expose-gc test/bench/writer-memory.ts)');
  const open = (): void => {
    holder.dp = Datapath.open({ pinRoot: node.pinRoot, cgroupPath: node.cgroupPath });
  };
  const close = (): void => {
    holder.dp?.close();
    holder.dp = undefined;
  };
  try {
    open();
    const base = retainedMiB();
    holder.specs = Array.from({ length: SERVICES }, (_, s) => benchSpec(s, ENDPOINTS));
    const specsMiB = retainedMiB() - base;
    bulkLoad();
    const loadedWithSpecs = retainedMiB() - base - specsMiB;
    holder.specs = undefined;
    const loaded = retainedMiB() - base;
    driftScan();
    const scanned = retainedMiB() - base;
    close();
    const closed = retainedMiB();
    open();
    const readBack = retainedMiB() - closed;
    driftScan();
    const readBackScanned = retainedMiB() - closed;

    console.log(
      JSON.stringify(
        {
          services: SERVICES,
          backends: SERVICES * ENDPOINTS,
          specsMiB: mib(specsMiB),
          writerRetainedMiB: {
            afterBulkLoadSpecsHeld: mib(loadedWithSpecs),
            afterBulkLoad: mib(loaded),
            afterDriftScan: mib(scanned),
            afterRestartReadBack: mib(readBack),
            afterRestartDriftScan: mib(readBackScanned),
          },
        },
        null,
        2,
      ),
    );
  } finally {
    close();
  }
});
