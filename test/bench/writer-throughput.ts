/*
 * How fast the writer programs the maps at the Kubernetes scale limits: a first-start bulk load
 * through the batch path, then single-service updates as the reconciler makes them. Reports
 * numbers only; it asserts nothing about time. Run: make bench (root).
 */
import { Datapath, type ServiceSpec, unpinDatapath } from '../../pkg/datapath/index.js';
import { assertKernelPrereqs, cleanupLeftovers, Lab } from '../kernel/harness/index.js';

const SERVICES = Number(process.env.BENCH_SERVICES ?? 10_000);
const ENDPOINTS = Number(process.env.BENCH_ENDPOINTS ?? 15); // 150,000 endpoints in all
const UPDATES = Number(process.env.BENCH_UPDATES ?? 2_000);

const podAddress = (i: number): string => `10.${128 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;
const vip = (s: number): string => `10.96.${s >> 8}.${s & 255}`;

function spec(s: number, shift = 0): ServiceSpec {
  const pods = Array.from({ length: ENDPOINTS }, (_, e) => ({
    address: podAddress(s * ENDPOINTS + ((e + shift) % ENDPOINTS)),
    port: 8080,
    nodeId: e % 3,
    terminating: false,
  }));
  // Three tiers, as FAILOVER over zone and region would give.
  return { key: { address: vip(s), port: 80, protocol: 'TCP' }, label: `bench/svc-${s}`, mode: 'FAILOVER',
    tiers: [pods.slice(0, 2), pods.slice(2, 6), pods.slice(6)] };
}

async function main(): Promise<void> {
  assertKernelPrereqs();
  await cleanupLeftovers();
  const lab = await Lab.create('bench');
  const node = await lab.addNode('w1');
  let dp: Datapath | undefined;
  try {
    dp = Datapath.open({ pinRoot: node.pinRoot, cgroupPath: node.cgroupPath });
    const specs = Array.from({ length: SERVICES }, (_, s) => spec(s));
    let t = performance.now();
    const bulk = dp.writer.applyMany(specs);
    const bulkMs = performance.now() - t;
    if (bulk.failed.length) throw bulk.failed[0]!.error;

    // Updates: move one endpoint between tiers in each of UPDATES services.
    t = performance.now();
    for (let i = 0; i < UPDATES; i++) dp.writer.apply(spec(i % SERVICES, 1 + (i % 3)));
    const updMs = performance.now() - t;

    dp.close();
    t = performance.now();
    dp = Datapath.open({ pinRoot: node.pinRoot, cgroupPath: node.cgroupPath });
    const reopenMs = performance.now() - t;
    const rss = process.memoryUsage().rss / 2 ** 20;

    const endpoints = SERVICES * ENDPOINTS;
    console.log(JSON.stringify({
      services: SERVICES, endpoints,
      bulkLoadMs: Math.round(bulkMs), bulkEndpointsPerSec: Math.round(endpoints / (bulkMs / 1000)),
      updates: UPDATES, updateMeanUs: Math.round((updMs * 1000) / UPDATES),
      restartReadBackMs: Math.round(reopenMs), readBack: dp.writer.readBack,
      agentRssMiB: Math.round(rss),
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
