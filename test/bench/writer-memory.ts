/*
 * What the ServiceWriter keeps in memory for a large programmed state: by default 10,000
 * services with 100,000 slots and backends. Measures the heap (JS objects plus Buffer memory)
 * after a forced GC, before and after the bulk load, after a drift scan and after a restart's
 * read-back. The specs are measured both held (as the agent's desired state holds them, so
 * strings the writer shares with them cost nothing) and dropped (everything the writer holds).
 * Reports numbers only; it asserts nothing about size.
 * Run (root, after make build bpffs): npx tsx --expose-gc test/bench/writer-memory.ts
 */
import { Datapath, type ServiceSpec, unpinDatapath } from '../../pkg/datapath/index.js';
import { assertKernelPrereqs, cleanupLeftovers, Lab } from '../kernel/harness/index.js';

const SERVICES = Number(process.env.BENCH_SERVICES ?? 10_000);
const ENDPOINTS = Number(process.env.BENCH_ENDPOINTS ?? 10); // 100,000 backends in all

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

async function main(): Promise<void> {
  if (!gc) throw new Error('run with --expose-gc (npx tsx --expose-gc test/bench/writer-memory.ts)');
  assertKernelPrereqs();
  await cleanupLeftovers();
  const lab = await Lab.create('bench-memory');
  const node = await lab.addNode('w1');
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
    holder.specs = Array.from({ length: SERVICES }, (_, s) => spec(s));
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

    console.log(JSON.stringify({
      services: SERVICES, backends: SERVICES * ENDPOINTS,
      specsMiB: mib(specsMiB),
      writerRetainedMiB: {
        afterBulkLoadSpecsHeld: mib(loadedWithSpecs),
        afterBulkLoad: mib(loaded),
        afterDriftScan: mib(scanned),
        afterRestartReadBack: mib(readBack),
        afterRestartDriftScan: mib(readBackScanned),
      },
    }, null, 2));
  } finally {
    close();
    unpinDatapath(node.pinRoot);
    await lab.destroy();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
