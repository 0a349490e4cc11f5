/*
 * What one incremental pass costs, at 1,000 and at 10,000 Services: the real reconciler and
 * writer program a synthetic cluster (a full pass), then one EndpointSlice changes (an endpoint
 * flips readiness) and the pass that follows is measured: map reads, writes and deletes, as the
 * maps count them, and time. The counts must not grow with the number of Services. Runs on the
 * in-memory maps, without root; `--kernel` adds a run on real pinned maps (root, bpffs; run it
 * under the kernel lock). Numbers only; the last line is JSON.
 * Run: npm run bench:incremental [-- --kernel] [-- --json]
 */
import pino from 'pino';
import { Datapath, type DatapathMaps, type MapOps, memoryMaps, ServiceWriter, unpinDatapath } from '../../pkg/datapath/index.js';
import { Reconciler, type ReconcileResult } from '../../pkg/reconciler/index.js';
import { MemorySource } from './memory-source.js';
import {
  BENCH_SHAPE,
  type ClusterShape,
  nodeName,
  type RawSlice,
  seededRandom,
  sliceName,
  syntheticObjects,
  withReadinessFlipped,
} from './synthetic-cluster.js';

const SCALES = (process.env.BENCH_SCALES ?? '1000,10000').split(',').map(Number);
/** Changes measured per scale; the report gives the median time and the largest counts. */
const CHANGES = Number(process.env.BENCH_CHANGES ?? 21);
const json = process.argv.includes('--json');
const kernel = process.argv.includes('--kernel');

interface Measure {
  readonly maps: 'memory' | 'kernel';
  readonly services: number;
  readonly programmed: number;
  readonly full_pass_ms: number;
  /** Largest over the measured changes. */
  readonly reads: number;
  readonly writes: number;
  readonly deletes: number;
  readonly incremental_ms_p50: number;
  readonly incremental_ms_max: number;
}

/** BENCH_SHAPE (10,000 Services) scaled to `services`, keeping endpoints per Service and Services per node. */
function shapeFor(services: number): ClusterShape {
  const f = services / BENCH_SHAPE.services;
  return {
    ...BENCH_SHAPE,
    services,
    nodes: Math.max(50, Math.round(BENCH_SHAPE.nodes * f)),
    endpoints: Math.round(BENCH_SHAPE.endpoints * f),
  };
}

function total(ops: Readonly<Record<string, MapOps>> | undefined): MapOps {
  const sum: MapOps = { reads: 0, writes: 0, deletes: 0 };
  for (const o of Object.values(ops ?? {})) {
    sum.reads += o.reads;
    sum.writes += o.writes;
    sum.deletes += o.deletes;
  }
  return sum;
}

async function measure(services: number, maps: DatapathMaps, kind: Measure['maps']): Promise<Measure> {
  const source = new MemorySource(syntheticObjects(shapeFor(services)));
  const reconciler = new Reconciler(
    { source, writer: ServiceWriter.open(maps), nodeName: nodeName(0), resyncMs: 0 },
    pino({ level: 'silent' }),
  );
  const pass = async (): Promise<ReconcileResult> => {
    const result = await reconciler.reconcileNow('bench');
    if (!result?.completed) throw new Error(`pass did not complete: ${result?.message}`);
    return result;
  };
  try {
    const first = await pass();
    if (first.failures.length > 0) throw new Error(`full pass failed for ${first.failures.length} services: ${first.failures[0]?.message}`);
    const random = seededRandom(5);
    const times: number[] = [];
    const worst: MapOps = { reads: 0, writes: 0, deletes: 0 };
    for (let i = 0; i < CHANGES; i++) {
      // Local Services (every tenth) rarely have an endpoint on this node: a change there writes nothing.
      const s = 1 + 10 * Math.floor(random() * (services / 10 - 1)) + Math.floor(random() * 9);
      const slice = source.get('EndpointSlice', sliceName(s)) as RawSlice;
      source.upsert(withReadinessFlipped(slice, Math.floor(random() * slice.endpoints.length), i + 1));
      const result = await pass();
      if (result.full || result.replanned !== 1)
        throw new Error(`expected an incremental pass over one Service, got ${JSON.stringify(result)}`);
      times.push(result.durationMs);
      const ops = total(result.mapOps);
      worst.reads = Math.max(worst.reads, ops.reads);
      worst.writes = Math.max(worst.writes, ops.writes);
      worst.deletes = Math.max(worst.deletes, ops.deletes);
    }
    times.sort((a, b) => a - b);
    const round = (ms: number): number => Math.round(ms * 1000) / 1000;
    return {
      maps: kind,
      services,
      programmed: first.desired,
      full_pass_ms: Math.round(first.durationMs),
      ...worst,
      incremental_ms_p50: round(times[Math.floor(times.length / 2)]!),
      incremental_ms_max: round(times[times.length - 1]!),
    };
  } finally {
    reconciler.stop();
  }
}

async function onKernel(services: number): Promise<Measure> {
  const { assertKernelPrereqs, cleanupLeftovers, KernelLab } = await import('../../lab/kernel-lab/index.js');
  assertKernelPrereqs();
  await cleanupLeftovers();
  const lab = await KernelLab.create('incremental-bench');
  try {
    const node = await lab.addNode('self');
    const dp = Datapath.open({ pinRoot: node.pinRoot, cgroupPath: node.cgroupPath });
    try {
      return await measure(services, dp.loaded.maps, 'kernel');
    } finally {
      dp.close();
      unpinDatapath(node.pinRoot);
    }
  } finally {
    await lab.destroy();
  }
}

async function main(): Promise<void> {
  const results: Measure[] = [];
  for (const services of SCALES) results.push(await measure(services, memoryMaps(), 'memory'));
  if (kernel) for (const services of SCALES) results.push(await onKernel(services));
  if (!json) {
    for (const r of results) {
      console.log(
        `${r.maps} maps, ${r.services} Services (${r.programmed} programmed, full pass ${r.full_pass_ms} ms): ` +
          `one changed EndpointSlice -> ${r.reads} reads, ${r.writes} writes, ${r.deletes} deletes, ` +
          `${r.incremental_ms_p50} ms (p50 of ${CHANGES}), ${r.incremental_ms_max} ms max`,
      );
    }
  }
  console.log(JSON.stringify(results));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
