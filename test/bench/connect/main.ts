/*
 * npm run bench:connect -- --json: connect+close latency through each system, against the floor.
 *   direct   to the measured Service's endpoint, from a cgroup with no BPF attached
 *   nearby   to the Service's VIP, from the cgroup the real agent attached to, with --services
 *            Services and --endpoints endpoints programmed by that agent
 *   direct_hooked  direct again, from the cgroup the agent attached to: the hooks' fixed cost
 *   nearby_ejection  with --ejection: a second agent whose Services all have outlier detection and
 *            whose measured Service has endpoints ejected by the kernel (nearby-ejection.ts)
 *   iptables, nftables  kube-proxy of the lab's release in that mode, to the same Service's
 *            ClusterIP, from a namespace of its own that it programs (kube-proxy.ts)
 *   iptables_legacy  iptables mode over the legacy x_tables instead of nf_tables (--peers picks)
 * The Services are created once per run through the lab's real API server (bench-cluster.ts);
 * nearby's agent (KubernetesSource) and the kube-proxies list them from there. With
 * --nearby-source file and --peers '' no control plane starts (FileSource manifests instead).
 * Everything lives in kernel-lab namespaces (no route out; leftovers of crashed runs are removed
 * first), each with the endpoint addresses on lo and a C endpoint server accepting on all of them.
 * Rounds interleave the systems (the order rotates), each round one connect-client run; the
 * report gives medians of the rounds' p50 and p99 and how far the rounds spread. The last stdout
 * line is the JSON.
 */
import { parseArgs } from 'node:util';
import { DEFAULT_SERVICE_CIDR } from '../../../lab/control-plane/index.js';
import { assertKernelPrereqs } from '../../../lab/kernel-lab/index.js';
import { median, round2, spread } from '../stats.js';
import type { TestControlPlane } from '../../cluster/control-plane-fixture.js';
import { type BenchCluster, startBenchCluster } from './bench-cluster.js';
import { type ClientResult, ConnectLab } from './connect-lab.js';
import { directHookedSystem, directSystem } from './direct.js';
import { type Layout, measuredEndpoints, TARGET_PORT } from './manifests.js';
import { isKubeProxyPeerName, KUBE_PROXY_PEER_NAMES, kubeProxySystem } from './kube-proxy.js';
import { nearbySystem } from './nearby.js';
import { nearbyEjectionSystem } from './nearby-ejection.js';
import { type ConnectSystem, type Extras, NotProgrammedError, type Target } from './system.js';

const { values: args } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    services: { type: 'string', default: '10000' },
    endpoints: { type: 'string', default: '100000' },
    rounds: { type: 'string', default: '5' },
    connects: { type: 'string', default: '50000' },
    seconds: { type: 'string', default: '5' },
    'server-threads': { type: 'string', default: '2' },
    'program-timeout-seconds': { type: 'string', default: '900' },
    'nearby-source': { type: 'string', default: 'api' },
    peers: { type: 'string', default: 'iptables,iptables_legacy,nftables' },
    ejection: { type: 'boolean', default: false },
  },
});
const services = Number(args.services);
const layout: Layout = { services, perService: Math.floor(Number(args.endpoints) / services) };
if (!(services >= 1 && layout.perService >= 5)) throw new Error('--endpoints must give each Service at least 5 endpoints');
const ROUNDS = Number(args.rounds);
const CONNECTS = Number(args.connects);
const SECONDS = Number(args.seconds);
const log = (line: string): void => {
  if (!args.json) console.error(line);
};

const peers = args.peers.split(',').filter((p) => p !== '');
const unknownPeer = peers.find((peer) => !isKubeProxyPeerName(peer));
if (unknownPeer !== undefined) throw new Error(`--peers: unknown ${unknownPeer} (known: ${KUBE_PROXY_PEER_NAMES.join(', ')})`);
const nearbySource = args['nearby-source'];
if (nearbySource !== 'api' && nearbySource !== 'file') throw new Error('--nearby-source is api or file');
const needsCluster = nearbySource === 'api' || peers.length > 0;
// The ejection agent is FileSource-fed (its Services carry the annotation, the plain agent's must not):
// compared with nearby only when both load the same layout.
if (args.ejection && nearbySource !== 'file')
  throw new Error('--ejection needs --nearby-source file (both agents then load the same Services)');

async function main(): Promise<void> {
  assertKernelPrereqs();
  const targets = new Map<string, Target>();
  const programTimeoutMs = Number(args['program-timeout-seconds']) * 1000;
  let cluster: BenchCluster | undefined;
  // Set as soon as it runs: a signal during the Services' creation must stop it too.
  let controlPlane: TestControlPlane | undefined;
  const theCluster = (): BenchCluster => {
    if (!cluster) throw new Error('the control plane is not started');
    return cluster;
  };
  // direct_hooked dials from nearby's cgroup, so it is set up after nearby.
  const systems: ConnectSystem[] = [
    directSystem(layout),
    nearbySystem(layout, programTimeoutMs, nearbySource === 'api' ? { kind: 'api', cluster: theCluster } : { kind: 'file' }),
    directHookedSystem(layout, () => targets.get('nearby')),
    ...(args.ejection ? [nearbyEjectionSystem(layout, programTimeoutMs)] : []),
    ...peers.filter(isKubeProxyPeerName).map((peer) =>
      kubeProxySystem({
        name: peer,
        peer,
        layout,
        cluster: theCluster,
        serverThreads: Number(args['server-threads']),
        programTimeoutMs,
      }),
    ),
  ];
  const extras = new Map<string, Extras>();
  const lab = await ConnectLab.create();
  const stop = (): void => {
    void Promise.allSettled(systems.map((s) => s.teardown()))
      .then(() => controlPlane?.stop())
      .then(() => lab.destroy())
      .finally(() => process.exit(130));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const results = new Map<string, ClientResult[]>(systems.map((s) => [s.name, []]));
  // Systems that had not programmed every Service within --program-timeout-seconds: reported, not measured.
  const notProgrammed = new Map<string, NotProgrammedError>();
  const measured = (): ConnectSystem[] => systems.filter((s) => !notProgrammed.has(s.name));
  try {
    for (const address of measuredEndpoints(layout)) lab.addAddress(address);
    await lab.startServer(TARGET_PORT, Number(args['server-threads']));
    if (needsCluster) {
      log(`starting the control plane and creating ${layout.services} Services through its API server`);
      cluster = await startBenchCluster(layout, { log, onControlPlane: (env) => (controlPlane = env) });
      log(`created in ${cluster.createMs} ms`);
    }
    // Every namespace routes the Service CIDR on lo, as kube-proxy's need (fairness: same table).
    lab.routeServices(cluster?.env.cp.serviceCidr ?? DEFAULT_SERVICE_CIDR);
    for (const system of systems) {
      log(`setting up ${system.name}`);
      try {
        targets.set(system.name, await system.setup(lab));
      } catch (error) {
        if (!(error instanceof NotProgrammedError)) throw error;
        log(`${error.message}; left out of the rounds`);
        notProgrammed.set(system.name, error);
        await system.teardown();
      }
    }
    const inRounds = measured();
    for (let r = 0; r < ROUNDS; r++) {
      const order = inRounds.map((_, i) => inRounds[(i + r) % inRounds.length]!);
      for (const system of order) {
        const result = await lab.connect(targets.get(system.name)!, CONNECTS, SECONDS);
        if (result.cycles === 0) throw new Error(`${system.name}: no connect succeeded (first errno ${result.first_errno})`);
        results.get(system.name)!.push(result);
        log(
          `round ${r + 1} ${system.name}: p50 ${result.p50_ns} ns, p99 ${result.p99_ns} ns, ${result.per_second}/s, ${result.failures} failed`,
        );
      }
    }
    for (const system of inRounds) extras.set(system.name, { ...(await system.extras()) });
  } finally {
    await Promise.allSettled(systems.map((s) => s.teardown()));
    await controlPlane?.stop();
    await lab.destroy();
  }

  const report: Record<string, unknown> = {
    services: layout.services,
    endpoints: layout.services * layout.perService,
    rounds: ROUNDS,
    connects_per_round_max: CONNECTS,
    seconds_per_round_max: SECONDS,
    server_threads: Number(args['server-threads']),
    nearby_source: nearbySource === 'api' ? 'KubernetesSource' : 'FileSource',
    ...(cluster ? { services_create_ms: cluster.createMs } : {}),
  };
  for (const system of measured()) {
    const rs = results.get(system.name)!;
    const p50s = rs.map((x) => x.p50_ns);
    const p99s = rs.map((x) => x.p99_ns);
    Object.assign(report, {
      [`${system.name}_ns`]: median(p50s),
      [`${system.name}_p99_ns`]: median(p99s),
      [`${system.name}_p50_rounds_ns`]: p50s,
      [`${system.name}_p99_rounds_ns`]: p99s,
      [`${system.name}_spread`]: round2(spread(p50s)),
      [`${system.name}_per_second`]: Math.round(median(rs.map((x) => x.per_second))),
      [`${system.name}_connects`]: rs.reduce((n, x) => n + x.cycles, 0),
      [`${system.name}_failures`]: rs.reduce((n, x) => n + x.failures, 0),
      [`${system.name}_services_loaded`]: system.loaded().services,
      [`${system.name}_endpoints_loaded`]: system.loaded().endpoints,
      ...extras.get(system.name),
    });
  }
  report.nearby_over_direct = round2((report.nearby_ns as number) / (report.direct_ns as number));
  report.direct_hooked_over_direct = round2((report.direct_hooked_ns as number) / (report.direct_ns as number));
  report.nearby_p99_over_direct = round2((report.nearby_p99_ns as number) / (report.direct_p99_ns as number));
  if (args.ejection) {
    report.nearby_ejection_over_direct = round2((report.nearby_ejection_ns as number) / (report.direct_ns as number));
    report.nearby_ejection_p99_over_direct = round2((report.nearby_ejection_p99_ns as number) / (report.direct_p99_ns as number));
    report.nearby_ejection_over_nearby = round2((report.nearby_ejection_ns as number) / (report.nearby_ns as number));
  }
  const notMeasured: Record<string, string> = {};
  for (const [name, error] of notProgrammed) {
    Object.assign(report, { [`${name}_ns`]: null, [`${name}_p99_ns`]: null, ...error.extras });
    notMeasured[name] = `not measured: not programmed within the bound (--program-timeout-seconds), waited ${error.waitedMs} ms`;
  }
  for (const peer of KUBE_PROXY_PEER_NAMES) {
    if (peers.includes(peer)) continue;
    Object.assign(report, { [`${peer}_ns`]: null, [`${peer}_p99_ns`]: null });
    notMeasured[peer] = 'not measured: left out with --peers';
  }
  if (Object.keys(notMeasured).length > 0) report.not_measured = notMeasured;
  console.log(JSON.stringify(report));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
