// kube-proxy as the benchmarks' peer, for real: the binary of the lab's release (make kube-proxy)
// runs in a client network namespace with no route out, against the lab's API server, in iptables
// mode (over nf_tables, then over the legacy x_tables) and then nftables mode. A selector-less
// Service's EndpointSlice points at one of two servers in a pod namespace joined to the client's
// by a veth; a connect to the VIP from the client must reach that server (not the other), and
// follow the slice when it is rewritten. After
// each peer stops, none of its rules remain; after the namespaces go, nothing of the test does.
// Needs root and the binaries of `make control-plane` and `make kube-proxy`; fails, never skips.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestControlPlane, type TestControlPlane } from './control-plane-fixture.js';
import { DEFAULT_SERVICE_CIDR } from '../../lab/control-plane/index.js';
import { kernelEnv, listNetns, netnsPath, run } from '../../lab/kernel-lab/index.js';
import { isRunning, type ProcessRef } from '../../lab/processes.js';
import {
  ApiWriter,
  benchNode,
  createBulkServices,
  KubeProxyPeer,
  PEERS_DIR,
  peerLeftovers,
  replaceEndpoints,
  spawnInNetns,
  tsMain,
  type BulkService,
  type IptablesBackend,
  type KubeProxyMode,
  type NetnsProcess,
} from '../bench/peers/index.js';
import { ifSetUp } from '../fixtures/if-set-up.js';

const CLIENT_NS = `nbt-${process.pid}-kpclient`;
const POD_NS = `nbt-${process.pid}-kppod`;
const CLIENT_IP = '10.250.0.1';
const POD_LINK_IP = '10.250.0.2';
const SERVER_A = '10.244.250.10';
const SERVER_B = '10.244.250.11';
const PORTS = { port: 80, targetPort: 8080 };
const NODE = 'kp-node';

let env: TestControlPlane;
let servers: NetnsProcess[] = [];
let service: BulkService;
let api: ApiWriter;
const peerRefs: ProcessRef[] = [];

const ip = (args: string[]) => run(kernelEnv().ip, args);

const UNREACHABLE = 'unreachable';

/** A tool's output, run in the client namespace. */
async function inClientNs(argv: string[]): Promise<string> {
  return (await run(kernelEnv().nsenter, [`--net=${netnsPath(CLIENT_NS)}`, '--', ...argv])).stdout;
}

/** One HTTP GET from the client namespace: the name of the server that answered, or UNREACHABLE. */
async function whoAnswers(address: string, port: number): Promise<string> {
  const curl = ['curl', '-s', '-m', '2', `http://${address}:${port}/`];
  try {
    return (await run(kernelEnv().nsenter, [`--net=${netnsPath(CLIENT_NS)}`, '--', ...curl])).stdout.trim();
  } catch {
    return UNREACHABLE;
  }
}

beforeAll(async () => {
  for (const name of [CLIENT_NS, POD_NS]) {
    await ip(['netns', 'add', name]);
    await ip(['-n', name, 'link', 'set', 'lo', 'up']);
  }
  // Both ends of the veth live in the test's namespaces: nothing is added to the initial one.
  await ip(['-n', CLIENT_NS, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', POD_NS]);
  await ip(['-n', CLIENT_NS, 'addr', 'add', `${CLIENT_IP}/30`, 'dev', 'eth0']);
  await ip(['-n', POD_NS, 'addr', 'add', `${POD_LINK_IP}/30`, 'dev', 'eth0']);
  for (const name of [CLIENT_NS, POD_NS]) await ip(['-n', name, 'link', 'set', 'eth0', 'up']);
  for (const address of [SERVER_A, SERVER_B]) await ip(['-n', POD_NS, 'addr', 'add', `${address}/32`, 'dev', 'lo']);
  await ip(['-n', CLIENT_NS, 'route', 'add', '10.244.250.0/24', 'via', POD_LINK_IP, 'dev', 'eth0']);
  // kube-proxy rewrites after routing, so the VIPs need a route, as a node's default route gives
  // them; toward the pod namespace, which has none onward.
  await ip(['-n', CLIENT_NS, 'route', 'add', DEFAULT_SERVICE_CIDR, 'via', POD_LINK_IP, 'dev', 'eth0']);

  env = await startTestControlPlane('kube-proxy-peer');
  const logs = join(env.cp.dir, '..');
  servers = [
    await spawnInNetns({
      netns: POD_NS,
      argv: tsMain('name-server-main.ts', ['server-a', String(PORTS.targetPort), SERVER_A]),
      logFile: join(logs, 'a.log'),
      readyLine: true,
    }),
    await spawnInNetns({
      netns: POD_NS,
      argv: tsMain('name-server-main.ts', ['server-b', String(PORTS.targetPort), SERVER_B]),
      logFile: join(logs, 'b.log'),
      readyLine: true,
    }),
  ];
  const applied = await env.cp.kubectl(['apply', '-f', '-'], JSON.stringify(benchNode(NODE, CLIENT_IP)));
  if (applied.code !== 0) throw new Error(`creating Node ${NODE}: ${applied.stderr}`);
  [service] = (await createBulkServices({
    kubeconfig: env.cp.adminKubeconfig,
    namespace: 'kp-peer',
    count: 1,
    endpointsOf: () => [SERVER_A],
    nodeName: NODE,
    ...PORTS,
  })) as [BulkService];
  api = await ApiWriter.open(env.cp.adminKubeconfig, 2);
}, 90_000);

afterAll(async () => {
  ifSetUp(api)?.close();
  for (const server of ifSetUp(servers) ?? []) await server.stop();
  await ifSetUp(env)?.stop();
  for (const name of [CLIENT_NS, POD_NS]) await ip(['netns', 'delete', name]).catch(() => undefined);
});

describe('kube-proxy of the lab release as a peer in its own namespace', () => {
  it('the pod servers answer directly, and the VIP is unreachable without a proxy', async () => {
    expect(await whoAnswers(SERVER_A, PORTS.targetPort)).toBe('server-a');
    expect(await whoAnswers(SERVER_B, PORTS.targetPort)).toBe('server-b');
    expect(await whoAnswers(service.clusterIP, PORTS.port)).toBe(UNREACHABLE);
  });

  const peers: ReadonlyArray<{ mode: KubeProxyMode; iptablesBackend?: IptablesBackend }> = [
    { mode: 'iptables' },
    { mode: 'iptables', iptablesBackend: 'legacy' },
    { mode: 'nftables' },
  ];
  for (const { mode, iptablesBackend } of peers) {
    const name = iptablesBackend ? `${mode} (${iptablesBackend})` : mode;
    it(`${name}: a connect to the VIP reaches the slice's server, follows the slice, and stop() leaves no rule`, async () => {
      await replaceEndpoints(api, service, [SERVER_A], PORTS, NODE);
      const peer = await KubeProxyPeer.start({
        cp: env.cp,
        netns: CLIENT_NS,
        mode,
        ...(iptablesBackend ? { iptablesBackend } : {}),
        nodeName: NODE,
        nodeIp: CLIENT_IP,
        minSyncPeriodMs: 0,
      });
      peerRefs.push(peer.ref);
      try {
        expect(await whoAnswers(service.clusterIP, PORTS.port)).toBe('server-a');

        const changed = Date.now();
        await replaceEndpoints(api, service, [SERVER_B], PORTS, NODE);
        await peer.waitSynced(20_000, changed);
        expect(await whoAnswers(service.clusterIP, PORTS.port)).toBe('server-b');

        const conntrack = await peer.conntrackStats();
        expect(conntrack.drop).toBe(0);
        expect(conntrack.insertFailed).toBe(0);
        expect(peer.rssBytes()).toBeGreaterThan(0);
        expect((await peer.rulesLeft()).length).toBeGreaterThan(0);
        if (iptablesBackend === 'legacy') {
          // Its rules are in the legacy tables, and none in nf_tables: the system's own iptables sees none.
          expect(await inClientNs(['iptables-legacy-save', '-t', 'nat'])).toMatch(/^-A KUBE-SERVICES /m);
          expect(await inClientNs(['iptables-nft-save', '-t', 'nat'])).not.toMatch(/KUBE-/);
        }
      } finally {
        await peer.stop();
      }
      expect(existsSync(peer.dir)).toBe(false);
      expect(isRunning(peer.ref)).toBe(false);
      expect(await whoAnswers(service.clusterIP, PORTS.port)).toBe(UNREACHABLE);
    });
  }

  it('after the namespaces are deleted nothing of the test remains', async () => {
    for (const server of servers) await server.stop();
    servers = [];
    for (const name of [CLIENT_NS, POD_NS]) await ip(['netns', 'delete', name]);
    const netns = await listNetns();
    expect(netns).not.toContain(CLIENT_NS);
    expect(netns).not.toContain(POD_NS);
    expect(peerRefs.filter(isRunning)).toEqual([]);
    expect(existsSync(PEERS_DIR) ? peerLeftovers().filter((l) => l.owner.pid === process.pid) : []).toEqual([]);
  });
});
