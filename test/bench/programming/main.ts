/*
 * npm run bench:programming -- --json: how long an EndpointSlice change at the API server takes to
 * reach connects, through each system, with --services Services loaded (bench-cluster.ts).
 *   nearby          the real agent, KubernetesSource against the lab's API server
 *   iptables        kube-proxy, iptables mode, default sync (minSyncPeriod 1 s)
 *   iptables_sync0  kube-proxy, iptables mode, minSyncPeriod 0 (its fastest)
 *   iptables_legacy, iptables_legacy_sync0  the same over the legacy x_tables instead of nf_tables
 *   nftables, nftables_sync0  the same in nftables mode
 * One extra Service, `probe`, has a single endpoint that each change moves between two
 * name-servers (probe-a, probe-b) present in every system's namespace. Per change: every system's
 * probe (test/bench/c/name-probe.c) is told the new name, the time is taken, the slice is
 * replaced (one PUT), and each probe connects to the probe Service's ClusterIP until the new name
 * answers. The latency is from just before the PUT to that first answer, so it includes the API
 * write. Changes are --gap-ms apart (after every system reached the last one): kube-proxy's
 * minSyncPeriod counts from the end of its previous sync, so changes sent back to back would each
 * wait behind the sync of the change before, and measure the harness's pace instead of the time
 * one change takes. All systems watch the same changes at once (they share the machine's 2 cores;
 * run time allows no other way at 200 changes).
 * --systems picks a subset; --setup parallel starts the kube-proxies at once (at 10,000 Services
 * each first iptables sync takes minutes, one after the other they would take the better part of
 * an hour; at once they share the cores, so their start-to-programmed times are upper bounds).
 * --change-timeout-seconds bounds the wait for one change in every system; past it the run fails.
 * Also: start to all Services programmed, and RSS, per system. The last stdout line is the JSON.
 */
import { type ChildProcess } from 'node:child_process';
import { loadavg } from 'node:os';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { assertKernelPrereqs } from '../../../lab/kernel-lab/index.js';
import { benchProgram } from '../c-programs.js';
import { ApiWriter, replaceEndpoints, spawnInNetns, tsMain, type NetnsProcess } from '../peers/index.js';
import { percentile, round2 } from '../stats.js';
import type { TestControlPlane } from '../../cluster/control-plane-fixture.js';
import { type BenchCluster, PROBE_PORTS, startBenchCluster } from '../connect/bench-cluster.js';
import { ConnectLab } from '../connect/connect-lab.js';
import { KUBE_PROXY_PEER_NAMES, kubeProxySystem } from '../connect/kube-proxy.js';
import { type Layout, measuredEndpoints, TARGET_PORT } from '../connect/manifests.js';
import { nearbySystem } from '../connect/nearby.js';
import { type ConnectSystem, NotProgrammedError, type Target } from '../connect/system.js';

const PROBE = { a: { name: 'probe-a', address: '10.129.0.1' }, b: { name: 'probe-b', address: '10.129.0.2' } } as const;

/** Each kube-proxy peer at its default sync settings and at its fastest (minSyncPeriod 0). */
const PEER_SYNCS = KUBE_PROXY_PEER_NAMES.flatMap((peer) => [
  { name: peer, peer, minSyncPeriodMs: undefined, variant: undefined },
  { name: `${peer}_sync0`, peer, minSyncPeriodMs: 0, variant: 'sync0' },
]);
const SYSTEM_NAMES = ['nearby', ...PEER_SYNCS.map((p) => p.name)];

const { values: args } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    services: { type: 'string', default: '10000' },
    endpoints: { type: 'string', default: '100000' },
    changes: { type: 'string', default: '200' },
    // Past kube-proxy's default minSyncPeriod (1 s), which it counts from the end of its last sync.
    'gap-ms': { type: 'string', default: '1100' },
    'program-timeout-seconds': { type: 'string', default: '900' },
    'change-timeout-seconds': { type: 'string', default: '30' },
    systems: { type: 'string', default: SYSTEM_NAMES.join(',') },
    setup: { type: 'string', default: 'serial' },
  },
});
const services = Number(args.services);
const layout: Layout = { services, perService: Math.floor(Number(args.endpoints) / services) };
if (!(services >= 1 && layout.perService >= 1)) throw new Error('--endpoints must give each Service at least 1 endpoint');
const CHANGES = Number(args.changes);
const GAP_MS = Number(args['gap-ms']);
const CHANGE_TIMEOUT_MS = Number(args['change-timeout-seconds']) * 1000;
const chosen = args.systems.split(',').filter((name) => name !== '');
for (const name of chosen) if (!(SYSTEM_NAMES as readonly string[]).includes(name)) throw new Error(`--systems: unknown ${name}`);
if (args.setup !== 'serial' && args.setup !== 'parallel') throw new Error('--setup is serial or parallel');
const log = (line: string): void => {
  if (!args.json) console.error(line);
};

/** A probe process where a system's client runs; next() resolves with its next line. */
function startProbe(lab: ConnectLab, target: Target, vip: string): { child: ChildProcess; next: () => Promise<string> } {
  const child = lab.spawnPlaced(target, [benchProgram('name-probe'), vip, String(PROBE_PORTS.port)]);
  const waiting: Array<(line: string) => void> = [];
  const buffered: string[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const resolve = waiting.shift();
    if (resolve) resolve(line);
    else buffered.push(line);
  });
  const next = (): Promise<string> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`probe at ${vip}: no answer within ${CHANGE_TIMEOUT_MS} ms`)), CHANGE_TIMEOUT_MS);
      const take = (line: string): void => {
        clearTimeout(timer);
        resolve(line);
      };
      const early = buffered.shift();
      if (early !== undefined) take(early);
      else waiting.push(take);
    });
  return { child, next };
}

async function main(): Promise<void> {
  assertKernelPrereqs();
  // The machine is shared: every figure is reported with the load it was measured under.
  const loadAtStart = loadavg()[0]!;
  const programTimeoutMs = Number(args['program-timeout-seconds']) * 1000;
  let cluster: BenchCluster | undefined;
  // Set as soon as it runs: a signal during the Services' creation must stop it too.
  let controlPlane: TestControlPlane | undefined;
  const theCluster = (): BenchCluster => cluster!;
  const peer = ({ name, peer: kind, minSyncPeriodMs, variant }: (typeof PEER_SYNCS)[number]): ConnectSystem =>
    kubeProxySystem({
      name,
      peer: kind,
      ...(variant === undefined ? {} : { variant }),
      ...(minSyncPeriodMs === undefined ? {} : { minSyncPeriodMs }),
      layout,
      cluster: theCluster,
      serverThreads: 1,
      programTimeoutMs,
      extraAddresses: [PROBE.a.address, PROBE.b.address],
    });
  const all: ConnectSystem[] = [nearbySystem(layout, programTimeoutMs, { kind: 'api', cluster: theCluster }), ...PEER_SYNCS.map(peer)];
  let systems = all.filter((system) => chosen.includes(system.name));
  // Those not programmed within --program-timeout-seconds: reported, left out of the changes.
  const notProgrammed = new Map<string, NotProgrammedError>();
  const lab = await ConnectLab.create();
  const nameServers: NetnsProcess[] = [];
  const probes: ChildProcess[] = [];
  const latencies = new Map<string, number[]>(systems.map((s) => [s.name, []]));
  const extras: Record<string, number> = {};
  const cleanUp = async (): Promise<void> => {
    for (const probe of probes) probe.kill('SIGKILL');
    for (const server of nameServers) await server.stop();
    await Promise.allSettled(systems.map((s) => s.teardown()));
    await controlPlane?.stop();
    await lab.destroy();
  };
  // What the changes so far showed. Also printed when the run is stopped early (SIGINT/SIGTERM):
  // at 10,000 Services one change can take a kube-proxy tens of seconds, so a run may be ended
  // before its --changes, and the changes it did measure are still a result.
  const report = (interrupted: boolean): Record<string, unknown> => {
    const out: Record<string, unknown> = {
      services: layout.services,
      endpoints: layout.services * layout.perService,
      changes: CHANGES,
      gap_ms: GAP_MS,
      change_timeout_ms: CHANGE_TIMEOUT_MS,
      systems: chosen,
      setup: args.setup,
      services_create_ms: cluster?.createMs ?? null,
      latency_from: 'just before the EndpointSlice PUT',
      load_average_1m_start: round2(loadAtStart),
      load_average_1m_end: round2(loadavg()[0]!),
    };
    for (const system of systems) {
      const values = latencies.get(system.name)!;
      Object.assign(out, {
        [`${system.name}_p50_ms`]: values.length > 0 ? round2(percentile(values, 50)) : null,
        [`${system.name}_p99_ms`]: values.length > 0 ? round2(percentile(values, 99)) : null,
        [`${system.name}_max_ms`]: values.length > 0 ? round2(Math.max(...values)) : null,
      });
    }
    Object.assign(out, extras);
    if (notProgrammed.size > 0) {
      const notMeasured: Record<string, string> = {};
      for (const [name, error] of notProgrammed) {
        Object.assign(out, { [`${name}_p50_ms`]: null, [`${name}_p99_ms`]: null, ...error.extras });
        notMeasured[name] = `not measured: not programmed within the bound (--program-timeout-seconds), waited ${error.waitedMs} ms`;
      }
      out.not_measured = notMeasured;
    }
    const done = Math.min(...systems.map((system) => latencies.get(system.name)!.length));
    if (interrupted) Object.assign(out, { interrupted: true, changes_done: done });
    return out;
  };
  const stop = (): void =>
    void Promise.allSettled(systems.map(async (system) => Object.assign(extras, await system.extras())))
      .then(() => console.log(JSON.stringify(report(true))))
      .then(cleanUp)
      .finally(() => process.exit(130));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    for (const address of [...measuredEndpoints(layout), PROBE.a.address, PROBE.b.address]) lab.addAddress(address);
    await lab.startServer(TARGET_PORT, 1);
    log(`starting the control plane and creating ${layout.services} Services through its API server`);
    cluster = await startBenchCluster(layout, { log, probeEndpoint: PROBE.a.address, onControlPlane: (env) => (controlPlane = env) });
    lab.routeServices(cluster.env.cp.serviceCidr);
    const probeService = cluster.probe!;
    const targets = new Map<string, Target>();
    const setUp = async (system: ConnectSystem): Promise<void> => {
      log(`setting up ${system.name}`);
      try {
        targets.set(system.name, await system.setup(lab));
        log(`${system.name} programmed`);
      } catch (error) {
        if (!(error instanceof NotProgrammedError)) throw error;
        log(`${error.message}; left out of the changes`);
        notProgrammed.set(system.name, error);
        await system.teardown();
      }
    };
    if (args.setup === 'serial') for (const system of systems) await setUp(system);
    else {
      // nearby alone first (its start is measured on its own), then every kube-proxy at once.
      for (const system of systems.filter((s) => s.name === 'nearby')) await setUp(system);
      await Promise.all(systems.filter((s) => s.name !== 'nearby').map(setUp));
    }
    systems = systems.filter((s) => !notProgrammed.has(s.name));
    for (const system of systems) {
      const netns = targets.get(system.name)!.netns ?? lab.netns;
      for (const { name, address } of [PROBE.a, PROBE.b]) {
        nameServers.push(
          await spawnInNetns({
            netns,
            argv: tsMain('name-server-main.ts', [name, String(PROBE_PORTS.targetPort), address]),
            logFile: '/dev/null',
            readyLine: true,
          }),
        );
      }
    }
    const running = systems.map((system) => {
      const probe = startProbe(lab, targets.get(system.name)!, probeService.clusterIP);
      probes.push(probe.child);
      return { system, probe };
    });
    // Each probe says ready, then the first change is timed from a state every system reached.
    await Promise.all(running.map((r) => r.probe.next()));
    for (const r of running) r.probe.child.stdin!.write(`${PROBE.a.name}\n`);
    await Promise.all(running.map((r) => r.probe.next()));
    const api = await ApiWriter.open(cluster.env.cp.adminKubeconfig, 2);
    try {
      for (let change = 0; change < CHANGES; change++) {
        const to = change % 2 === 0 ? PROBE.b : PROBE.a;
        for (const r of running) r.probe.child.stdin!.write(`${to.name}\n`);
        // The probes print CLOCK_MONOTONIC ns, the clock process.hrtime reads.
        const sent = process.hrtime.bigint();
        await replaceEndpoints(api, probeService, [to.address], PROBE_PORTS);
        const reached = await Promise.all(running.map((r) => r.probe.next()));
        running.forEach((r, i) => latencies.get(r.system.name)!.push(Number(BigInt(reached[i]!) - sent) / 1e6));
        const last = running.map((r) => `${r.system.name} ${latencies.get(r.system.name)!.at(-1)!.toFixed(1)}`);
        if ((change + 1) % 20 === 0) log(`${change + 1}/${CHANGES} changes; the last in ms: ${last.join(', ')}`);
        await sleep(GAP_MS);
      }
    } finally {
      api.close();
    }
    for (const system of systems) Object.assign(extras, await system.extras());
  } finally {
    await cleanUp();
  }

  console.log(JSON.stringify(report(false)));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
