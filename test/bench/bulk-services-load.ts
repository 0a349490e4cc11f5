/*
 * How long loading the benchmarks' Services through the lab's API server takes, and (with
 * --kube-proxy) how long kube-proxy then takes from start to every Service programmed, and its
 * memory, in each mode. Numbers, not pass/fail; needs root and `make control-plane kube-proxy`.
 *
 *   npx tsx test/bench/bulk-services-load.ts [--services 10000] [--endpoints 10] [--concurrency 32] [--kube-proxy]
 *
 * Last line: one JSON object.
 */
import { parseArgs } from 'node:util';
import { DEFAULT_SERVICE_CIDR } from '../../lab/control-plane/index.js';
import { kernelEnv, run } from '../../lab/kernel-lab/index.js';
import { startTestControlPlane } from '../cluster/control-plane-fixture.js';
import { benchNode, createBulkServices, KubeProxyPeer, type KubeProxyMode } from './peers/index.js';

const { values } = parseArgs({
  options: {
    services: { type: 'string', default: '10000' },
    endpoints: { type: 'string', default: '10' },
    concurrency: { type: 'string', default: '32' },
    'kube-proxy': { type: 'boolean', default: false },
  },
});
const services = Number(values.services);
const perService = Number(values.endpoints);
const concurrency = Number(values.concurrency);

/** Endpoint k (from 1) in 10.128.0.0/10: room for four million, none of them anyone's. */
const endpointAddress = (k: number): string => `10.${128 + (k >> 16)}.${(k >> 8) & 255}.${k & 255}`;

const env = await startTestControlPlane('bulk-services');
const netns = `nbt-${process.pid}-bulkkp`;
const result: Record<string, number | string> = { services, endpoints: services * perService, concurrency };
try {
  const applied = await env.cp.kubectl(['apply', '-f', '-'], JSON.stringify(benchNode('bench-node', '10.250.0.1')));
  if (applied.code !== 0) throw new Error(applied.stderr);
  const started = performance.now();
  let lastReport = started;
  await createBulkServices({
    kubeconfig: env.cp.adminKubeconfig,
    namespace: 'bench',
    count: services,
    port: 80,
    targetPort: 8080,
    endpointsOf: (i) => Array.from({ length: perService }, (_, j) => endpointAddress(i * perService + j + 1)),
    nodeName: 'bench-node',
    concurrency,
    onProgress: (done) => {
      if (performance.now() - lastReport > 5_000) {
        lastReport = performance.now();
        console.error(`${done}/${services} Services after ${Math.round((lastReport - started) / 1000)} s`);
      }
    },
  });
  const ms = performance.now() - started;
  result.create_ms = Math.round(ms);
  result.services_per_s = Math.round((services / ms) * 1000);
  console.error(JSON.stringify(result));

  if (values['kube-proxy']) {
    const { ip } = kernelEnv();
    await run(ip, ['netns', 'add', netns]);
    // Both ends in the one namespace (not every kernel has the dummy device): an address and a
    // route for the VIPs, and nothing leading out.
    await run(ip, ['-n', netns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth1']);
    await run(ip, ['-n', netns, 'addr', 'add', '10.250.0.1/30', 'dev', 'eth0']);
    for (const link of ['eth0', 'eth1']) await run(ip, ['-n', netns, 'link', 'set', link, 'up']);
    await run(ip, ['-n', netns, 'route', 'add', DEFAULT_SERVICE_CIDR, 'via', '10.250.0.2', 'dev', 'eth0']);
    for (const mode of ['iptables', 'nftables'] as const satisfies readonly KubeProxyMode[]) {
      const t0 = performance.now();
      const peer = await KubeProxyPeer.start({
        cp: env.cp,
        netns,
        mode,
        nodeName: 'bench-node',
        nodeIp: '10.250.0.1',
        syncTimeoutMs: 600_000,
      });
      result[`${mode}_start_to_synced_ms`] = Math.round(performance.now() - t0);
      result[`${mode}_rss_mb`] = Math.round(peer.rssBytes() / 2 ** 20);
      const t1 = performance.now();
      await peer.stop();
      result[`${mode}_stop_cleanup_ms`] = Math.round(performance.now() - t1);
    }
  }
} finally {
  await run(kernelEnv().ip, ['netns', 'delete', netns]).catch(() => undefined);
  await env.stop();
}
console.log(JSON.stringify(result));
