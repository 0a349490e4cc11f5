/*
 * The control plane at scale: a synthetic cluster of 5,000 nodes (3 regions x 3 zones x 2
 * subzones), 10,000 Services and 100,000 endpoints, planned for one node and programmed into
 * real pinned maps by the real reconciler and writer. It measures:
 *   - full_sync_ms:  first pass, from the whole snapshot to the last map write;
 *   - update_p50/p99_ms: one EndpointSlice change (an endpoint flips readiness) to the map write
 *     of its service, over 1,000 changes in a row;
 *   - relabel_ms: this node moved to another zone, to the end of the re-rank of every Service;
 *   - rss_mib: the process's peak RSS (VmHWM), objects of the source included, as an agent
 *     holding its informer caches would, and the agent's modules loaded.
 * With --destination-rules, one DestinationRule for every fifth Service (2,000) is added, cycling
 * through failover, distribute, failoverPriority, enabled: false and simple. With --maglev (which
 * implies --destination-rules), every other one of those rules balances by consistentHash
 * (useSourceIp) instead: a Maglev table of 1,021 slots per non-empty tier, so the slots map is
 * sized for them (MAGLEV_SLOTS) and programmed_slots says how many were written.
 * With --clusters N (default 1), the same totals are split across N clusters as a multi-cluster
 * agent sees them (test/bench/cluster-split.ts): the local cluster and N-1 remote ones, each with
 * its own nodes and every Service with a slice of the endpoints on its nodes, the remote ones fed
 * through MultiClusterSource in inCluster() lists as RemoteClusters feeds them. Started with
 * node --expose-gc, it also reports the heap each cluster's cached objects retain (source_heap_mib).
 * full_sync_cpu_ms and relabel_cpu_ms are the CPU time this process spent in those stages (user and
 * system, the map writes' syscalls included): on a shared machine the wall time follows the load,
 * the CPU time much less. BENCH_CPU_PROFILE=FILE writes a CPU profile of the full sync.
 * Numbers only, no assertions on time. Run: npm run bench:control [-- --json] (root, bpffs); it
 * runs with the V8 flags and malloc arenas the agent's image sets (--max-old-space-size=192
 * --max-semi-space-size=4, MALLOC_ARENA_MAX=1).
 * The last line is JSON. BENCH_HEAP_SNAPSHOT=FILE writes a heap snapshot after the relabel, to
 * see what the agent retains (give it a larger --max-old-space-size: the snapshot needs room).
 */
import { readFileSync } from 'node:fs';
import { getHeapStatistics, writeHeapSnapshot } from 'node:v8';
import pino from 'pino';
import { Datapath, type ServiceSpec, serviceKeyText, unpinDatapath } from '../../pkg/datapath/index.js';
import { Reconciler, type ReconcileResult, type ServiceWriterLike } from '../../pkg/reconciler/index.js';
import { assertKernelPrereqs, cleanupLeftovers, KernelLab } from '../../lab/kernel-lab/index.js';
import { MultiClusterSource, type Source } from '../../pkg/source/index.js';
import { keepReadFields, keepRemoteReadFields } from '../../pkg/model/index.js';
import { MemorySource } from './memory-source.js';
import { startCpuProfile } from './cpu-profile.js';
import { MemoryRemoteClusters } from './memory-remote-clusters.js';
import { countObjects, splitCluster, splitTotalsProblem } from './cluster-split.js';
// The agent loads its API-server source (and with it @kubernetes/client-node, ~75 MiB of RSS) even
// while another source feeds it; load it here too, so rss_mib is the agent's and not less.
import '../../cmd/agent/sources.js';
import {
  BENCH_SHAPE,
  nodeName,
  nodeObject,
  type RawSlice,
  seededRandom,
  sliceName,
  ruleForm,
  isMaglevRule,
  withReadinessFlipped,
} from './synthetic-cluster.js';

const UPDATES = Number(process.env.BENCH_UPDATES ?? 1_000);
const SELF = 0;
const json = process.argv.includes('--json');
// --destination-rules: one DestinationRule for every fifth Service (2,000 at the default shape).
const MAGLEV = process.argv.includes('--maglev');
const DESTINATION_RULES = process.argv.includes('--destination-rules') || MAGLEV ? Math.floor(BENCH_SHAPE.services / 5) : 0;
/**
 * The slots map for --maglev: 1,000 Services of up to three non-empty tiers of 1,021 slots each
 * do not fit the agent's default 300,000 (docs/semantics.md says so); an agent serving that
 * many consistentHash rules needs --max-slots raised the same way.
 */
const MAGLEV_SLOTS = 4_000_000;

function clustersOption(): number {
  const at = process.argv.indexOf('--clusters');
  if (at < 0) return 1;
  const n = Number(process.argv[at + 1]);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--clusters needs a whole number >= 1, got ${process.argv[at + 1]}`);
  return n;
}
const CLUSTERS = clustersOption();

/** Heap in use after a full collection, when node runs with --expose-gc; undefined otherwise. */
function heapAfterGc(): number | undefined {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return undefined;
  gc();
  return process.memoryUsage().heapUsed;
}

/**
 * The local cluster's source and the remote clusters', each holding its part of the split, and
 * the heap each part's source retains. Fails loudly when the split misses the stated totals.
 */
function buildSources(): {
  local: MemorySource;
  clusters: MemorySource[];
  placement: (s: number, i: number) => { cluster: number; index: number };
  parts: Array<{ cluster: string; nodes: number; services: number; slices: number; endpoints: number; source_heap_mib?: number }>;
} {
  const split = splitCluster(BENCH_SHAPE, CLUSTERS, 1, DESTINATION_RULES, MAGLEV);
  const clusters: MemorySource[] = [];
  const parts = split.parts.map((part) => {
    // One cluster's raw objects at a time, and only the source keeps them, as an agent's informer caches do.
    const before = heapAfterGc();
    const counts = ((objects: unknown[]) => {
      clusters.push(new MemorySource(objects, part.cluster === undefined ? keepReadFields : keepRemoteReadFields));
      return countObjects(part.cluster, objects);
    })(part.objects());
    const after = heapAfterGc();
    const heap = before === undefined || after === undefined ? {} : { source_heap_mib: Math.round(((after - before) / 2 ** 20) * 10) / 10 };
    return { ...counts, ...heap };
  });
  const problem = splitTotalsProblem(BENCH_SHAPE, parts);
  if (problem) throw new Error(`the ${CLUSTERS}-cluster split misses the stated totals: ${problem}`);
  return { local: clusters[0]!, clusters, placement: split.placement, parts };
}

function peakRssMiB(): number {
  const line = readFileSync('/proc/self/status', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmHWM:'));
  return Math.round(Number(line?.split(/\s+/)[1] ?? 0) / 1024);
}

/** Peak RSS so far, at each stage, to tell which stage sets the peak. */
const stages: Record<string, number> = {};
const mark = (stage: string): void => {
  stages[stage] = peakRssMiB();
};

/** CPU time (user + system) since `since`, in ms. */
function cpuMsSince(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return Math.round((used.user + used.system) / 1000);
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

const round = (ms: number): number => Math.round(ms * 100) / 100;

async function main(): Promise<void> {
  assertKernelPrereqs();
  await cleanupLeftovers();
  const built = buildSources();
  const { local, clusters, placement } = built;
  const remotes = new Map(built.parts.slice(1).map((part, i) => [part.cluster, clusters[i + 1]!] as const));
  // One cluster is an agent without remote secrets: the local source alone, as cmd/agent runs it.
  const source: Source = remotes.size === 0 ? local : new MultiClusterSource(local, new MemoryRemoteClusters(remotes));
  const lab = await KernelLab.create('control-bench');
  const node = await lab.addNode('self');
  const dp = Datapath.open({
    pinRoot: node.pinRoot,
    cgroupPath: node.cgroupPath,
    ...(MAGLEV ? { sizes: { slots: MAGLEV_SLOTS } } : {}),
  });
  try {
    // Resolves a waiter when the writer writes the key it waits for.
    const waiters = new Map<string, (atMs: number) => void>();
    const wrote = (spec: ServiceSpec): void => {
      const key = serviceKeyText(spec.key);
      const waiter = waiters.get(key);
      if (waiter) {
        waiters.delete(key);
        waiter(performance.now());
      }
    };
    // Slots each programmed key holds, as last written: the Maglev tables' cost in the slots map.
    const slotsOf = new Map<string, number>();
    const counted = (spec: ServiceSpec): void => {
      slotsOf.set(
        serviceKeyText(spec.key),
        spec.tiers.reduce((n, tier) => n + tier.length, 0),
      );
    };
    const w = dp.writer;
    const writer: ServiceWriterLike = {
      apply: (spec) => {
        const p = w.apply(spec);
        counted(spec);
        wrote(spec);
        return p;
      },
      remove: (key) => {
        slotsOf.delete(serviceKeyText(key));
        return w.remove(key);
      },
      applyMany: (specs) => {
        specs.forEach(counted);
        return w.applyMany(specs);
      },
      matches: (spec) => w.matches(spec),
      repairDrift: () => w.repairDrift(),
      keys: () => w.keys(),
      keyOf: (text) => w.keyOf(text),
      label: (key) => w.label(key),
      relabel: (key, label) => w.relabel(key, label),
      nodeIdOf: (address, port) => w.nodeIdOf(address, port),
      totals: () => w.totals(),
      mapOps: () => w.mapOps(),
    };
    const reconciler = new Reconciler({ source, writer, nodeName: nodeName(SELF), resyncMs: 0 }, pino({ level: 'silent' }));
    const nextResult = (): Promise<ReconcileResult> =>
      new Promise((resolve) => {
        const listener = (r: ReconcileResult): void => {
          if (!r.completed) return;
          reconcilerListeners.delete(listener);
          resolve(r);
        };
        reconcilerListeners.add(listener);
      });
    const reconcilerListeners = new Set<(r: ReconcileResult) => void>();
    reconciler.onResult((r) => [...reconcilerListeners].forEach((l) => l(r)));

    mark('cluster built');
    // 1. Full sync.
    const profile = await startCpuProfile(process.env['BENCH_CPU_PROFILE']);
    let t0 = performance.now();
    let cpu0 = process.cpuUsage();
    const synced = nextResult();
    reconciler.start();
    const first = await synced;
    const fullSyncMs = performance.now() - t0;
    const fullSyncCpuMs = cpuMsSince(cpu0);
    await profile.stop();
    if (first.failures.length > 0)
      throw new Error(`first sync failed for ${first.failures.length} services: ${first.failures[0]?.message}`);

    mark('full sync');
    // Slot writes and deletes of the full sync: deletes there mean a bulk insert was rolled back
    // and the services written one by one instead.
    const fullSyncSlotOps = w.mapOps()['slots'];
    // 2. EndpointSlice changes, one at a time. Local Services rarely have an endpoint on this
    // node, so a change there writes nothing; the others always re-tier. So does an endpoint in a
    // locality a distribute rule leaves out: those Services are left out too.
    const random = seededRandom(11);
    const distributes = (s: number): boolean => DESTINATION_RULES > 0 && s % 5 === 0 && ruleForm(s) === 'distribute';
    const candidates = Array.from({ length: BENCH_SHAPE.services }, (_, s) => s).filter((s) => s % 10 !== 0 && !distributes(s));
    // The endpoint flipped is any of the Service's, in whichever cluster's slice holds it.
    const perService = Math.floor(BENCH_SHAPE.endpoints / BENCH_SHAPE.services);
    const latencies: number[] = [];
    let remoteUpdates = 0;
    for (let i = 0; i < UPDATES; i++) {
      const s = candidates[Math.floor(random() * candidates.length)]!;
      const { cluster, index } = placement(s, Math.floor(random() * perService));
      const holder = clusters[cluster]!;
      if (cluster > 0) remoteUpdates++;
      const slice = holder.get('EndpointSlice', sliceName(s)) as RawSlice;
      const key = `10.96.${s >> 8}.${s & 255}:80/TCP`;
      const written = new Promise<number>((resolve) => waiters.set(key, resolve));
      t0 = performance.now();
      holder.upsert(withReadinessFlipped(slice, index, i + 1));
      latencies.push((await written) - t0);
    }
    latencies.sort((a, b) => a - b);

    mark('updates');
    // 3. This node moves to another region: every Service re-ranks.
    const relabelled = nextResult();
    t0 = performance.now();
    cpu0 = process.cpuUsage();
    local.upsert(nodeObject(SELF, BENCH_SHAPE, { region: 'region-2', zone: 'region-2-z2', subzone: 'region-2-z2-s1' }));
    const relabel = await relabelled;
    const relabelMs = performance.now() - t0;
    const relabelCpuMs = cpuMsSince(cpu0);
    reconciler.stop();
    mark('relabel');
    if (process.env['BENCH_HEAP_SNAPSHOT']) writeHeapSnapshot(process.env['BENCH_HEAP_SNAPSHOT']);

    const out = {
      clusters: CLUSTERS,
      per_cluster: built.parts,
      nodes: BENCH_SHAPE.nodes,
      services: BENCH_SHAPE.services,
      endpoints: BENCH_SHAPE.endpoints,
      destination_rules: DESTINATION_RULES,
      maglev_rules: MAGLEV ? Array.from({ length: DESTINATION_RULES }, (_, i) => i).filter(isMaglevRule).length : 0,
      programmed_slots: [...slotsOf.values()].reduce((a, b) => a + b, 0),
      programmed: first.desired,
      full_sync_slot_writes: fullSyncSlotOps?.writes ?? 0,
      full_sync_slot_deletes: fullSyncSlotOps?.deletes ?? 0,
      full_sync_ms: Math.round(fullSyncMs),
      full_sync_cpu_ms: fullSyncCpuMs,
      update_p50_ms: round(percentile(latencies, 50)),
      update_p99_ms: round(percentile(latencies, 99)),
      update_max_ms: round(latencies[latencies.length - 1] ?? NaN),
      remote_updates: remoteUpdates,
      relabel_ms: Math.round(relabelMs),
      relabel_cpu_ms: relabelCpuMs,
      relabel_rewritten: relabel.applied,
      rss_mib: peakRssMiB(),
      // The V8 heap cap in effect: the image runs the agent with --max-old-space-size=192 --max-semi-space-size=4.
      heap_limit_mib: Math.round(getHeapStatistics().heap_size_limit / 2 ** 20),
    };
    if (!json) {
      const phases = Object.entries(first.phasesMs ?? {})
        .map(([k, v]) => `${k} ${Math.round(v)}`)
        .join(', ');
      console.log(
        `full sync of ${out.programmed} services: ${out.full_sync_ms} ms, ${out.full_sync_cpu_ms} ms of CPU (first pass ${Math.round(first.durationMs)} ms: ${phases})`,
      );
      console.log(
        `EndpointSlice change -> map write over ${UPDATES}: ` +
          `p50 ${out.update_p50_ms} ms, p99 ${out.update_p99_ms} ms, max ${out.update_max_ms} ms`,
      );
      if (CLUSTERS > 1)
        console.log(
          `${CLUSTERS} clusters: ` +
            built.parts
              .map(
                (p) =>
                  `${p.cluster} ${p.nodes} nodes, ${p.slices} slices, ${p.endpoints} endpoints` +
                  (p.source_heap_mib === undefined ? '' : `, ${p.source_heap_mib} MiB of heap`),
              )
              .join('; ') +
            `; ${remoteUpdates} of the changes in remote clusters`,
        );
      console.log(
        `relabel of this node -> ${out.relabel_rewritten} services re-ranked in ${out.relabel_ms} ms, ${out.relabel_cpu_ms} ms of CPU`,
      );
      console.log(
        `peak RSS ${out.rss_mib} MiB; peak after each stage: ${Object.entries(stages)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')}`,
      );
    }
    console.log(JSON.stringify(out));
  } finally {
    dp.close();
    unpinDatapath(node.pinRoot);
    await lab.destroy();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
