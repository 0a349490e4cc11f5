/*
 * Where a multi-cluster agent's heap goes, without the kernel: the control-plane benchmark's split
 * (test/bench/cluster-split.ts) fed to the real reconciler over in-memory maps, with the heap
 * after a forced GC at each stage, and the heap's peak while this node's relabel re-plans every Service. Run: node --expose-gc dist/test/bench/model-memory.js --clusters N
 * (BENCH_HEAP_SNAPSHOT=FILE writes a heap snapshot at the end). The last line is JSON.
 */
import { writeHeapSnapshot } from 'node:v8';
import pino from 'pino';
import { memoryMaps, ServiceWriter } from '../../pkg/datapath/index.js';
import { Reconciler, type ReconcileResult } from '../../pkg/reconciler/index.js';
import { MultiClusterSource, type Source } from '../../pkg/source/index.js';
import { keepReadFields, keepRemoteReadFields } from '../../pkg/model/index.js';
import { MemorySource } from './memory-source.js';
import { MemoryRemoteClusters } from './memory-remote-clusters.js';
import { splitCluster } from './cluster-split.js';
import { BENCH_SHAPE, nodeName, nodeObject } from './synthetic-cluster.js';

const at = process.argv.indexOf('--clusters');
const CLUSTERS = at < 0 ? 1 : Number(process.argv[at + 1]);

function heapMiB(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run node with --expose-gc');
  gc();
  return Math.round((process.memoryUsage().heapUsed / 2 ** 20) * 10) / 10;
}

async function main(): Promise<void> {
  const heap: Record<string, number> = { start: heapMiB() };
  const split = splitCluster(BENCH_SHAPE, CLUSTERS);
  const clusters = split.parts.map(
    (part) => new MemorySource(part.objects(), part.cluster === undefined ? keepReadFields : keepRemoteReadFields),
  );
  heap['sources'] = heapMiB();
  const remotes = new Map(split.parts.slice(1).map((part, i) => [part.cluster!, clusters[i + 1]!] as const));
  const source: Source = remotes.size === 0 ? clusters[0]! : new MultiClusterSource(clusters[0]!, new MemoryRemoteClusters(remotes));
  const writer = ServiceWriter.open(memoryMaps());
  const reconciler = new Reconciler({ source, writer, nodeName: nodeName(0), resyncMs: 0 }, pino({ level: 'silent' }));
  const first = new Promise<ReconcileResult>((resolve) => reconciler.onResult((r) => r.completed && resolve(r)));
  const t0 = performance.now();
  reconciler.start();
  const result = await first;
  const fullSyncMs = Math.round(performance.now() - t0);
  heap['synced'] = heapMiB();
  // This node moving re-plans every Service: what stays live after it, against what the pass allocated (peak).
  const relabelled = new Promise<ReconcileResult>((resolve) => reconciler.onResult((r) => r.completed && resolve(r)));
  const peak = { before: process.memoryUsage().heapUsed };
  const sampler = setInterval(() => (peak.before = Math.max(peak.before, process.memoryUsage().heapUsed)), 5);
  clusters[0]!.upsert(nodeObject(0, BENCH_SHAPE, { region: 'region-2', zone: 'region-2-z2', subzone: 'region-2-z2-s1' }));
  await relabelled;
  clearInterval(sampler);
  reconciler.stop();
  heap['relabel_peak'] = Math.round((Math.max(peak.before, process.memoryUsage().heapUsed) / 2 ** 20) * 10) / 10;
  heap['relabelled'] = heapMiB();
  if (process.env['BENCH_HEAP_SNAPSHOT']) writeHeapSnapshot(process.env['BENCH_HEAP_SNAPSHOT']);
  const phases = Object.fromEntries(Object.entries(result.phasesMs ?? {}).map(([k, v]) => [k, Math.round(v)]));
  console.log(
    JSON.stringify({
      clusters: CLUSTERS,
      heap_mib: heap,
      full_sync_ms: fullSyncMs,
      phases,
      programmed: result.desired,
      ops: writer.mapOps(),
    }),
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
