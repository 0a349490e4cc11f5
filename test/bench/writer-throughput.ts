/*
 * How fast the writer programs the maps at the Kubernetes scale limits: a first-start bulk load
 * through the batch path, then single-service updates as the reconciler makes them. Reports
 * numbers only; it asserts nothing about time. Run: make bench (root).
 */
import { benchSpec, runOnBenchNode } from './writer-fixture.js';
import { Datapath } from '../../pkg/datapath/index.js';

const SERVICES = Number(process.env.BENCH_SERVICES ?? 10_000);
const ENDPOINTS = Number(process.env.BENCH_ENDPOINTS ?? 15); // 150,000 endpoints in all
const UPDATES = Number(process.env.BENCH_UPDATES ?? 2_000);

runOnBenchNode('bench', (node) => {
  let dp: Datapath | undefined;
  try {
    dp = Datapath.open({ pinRoot: node.pinRoot, cgroupPath: node.cgroupPath });
    const specs = Array.from({ length: SERVICES }, (_, s) => benchSpec(s, ENDPOINTS));
    let t = performance.now();
    const bulk = dp.writer.applyMany(specs);
    const bulkMs = performance.now() - t;
    if (bulk.failed.length) throw bulk.failed[0]!.error;

    // Updates: move one endpoint between tiers in each of UPDATES services.
    t = performance.now();
    for (let i = 0; i < UPDATES; i++) dp.writer.apply(benchSpec(i % SERVICES, ENDPOINTS, 1 + (i % 3)));
    const updMs = performance.now() - t;

    dp.close();
    t = performance.now();
    dp = Datapath.open({ pinRoot: node.pinRoot, cgroupPath: node.cgroupPath });
    const reopenMs = performance.now() - t;
    const rss = process.memoryUsage().rss / 2 ** 20;

    const endpoints = SERVICES * ENDPOINTS;
    console.log(
      JSON.stringify(
        {
          services: SERVICES,
          endpoints,
          bulkLoadMs: Math.round(bulkMs),
          bulkEndpointsPerSec: Math.round(endpoints / (bulkMs / 1000)),
          updates: UPDATES,
          updateMeanUs: Math.round((updMs * 1000) / UPDATES),
          restartReadBackMs: Math.round(reopenMs),
          readBack: dp.writer.readBack,
          agentRssMiB: Math.round(rss),
        },
        null,
        2,
      ),
    );
  } finally {
    dp?.close();
  }
});
