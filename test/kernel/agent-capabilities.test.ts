// The DaemonSet's capabilities are the ones the agent needs, no more and no fewer. The agent runs
// as a real process the way a container with privileged: false runs it: uid 0 with exactly the
// capabilities deploy/daemonset.yaml adds (read from that file, so the test and the manifest
// cannot drift), no_new_privs (allowPrivilegeEscalation: false), a read-only root and /sys, and
// the cgroup directory read-only as its hostPath mount is. With that it must attach, program the
// maps and rewrite a connect through a VIP, and a restart (a rolling update) must adopt the pins
// without a failed connect; with any one of those capabilities taken away it must refuse to start,
// saying which ones it needs, and leave nothing behind.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { PROGRAMS, readPinnedState } from '../../pkg/datapath/index.js';
import { endpointSliceYaml, nodeYaml } from '../fixtures/manifests.js';
import {
  type AgentRun,
  attachedPrograms,
  freePort,
  health,
  requireTool,
  ROOT,
  runAgentToExit,
  startAgent,
  until,
} from './agent-process.js';
import { tally } from './datapath-fixture.js';
import { assertKernelPrereqs, type Client, KernelLab, type SimNode } from '../../lab/kernel-lab/index.js';
import { ifSetUp } from '../fixtures/if-set-up.js';

const VIP = '10.96.7.10';
const POD = '10.244.70.1';
const PORT = 7300;
const SIZES = ['--max-services', '64', '--max-backends', '64', '--max-slots', '256', '--max-rev-nat', '256', '--max-counters', '512'];

/** What deploy/daemonset.yaml grants the agent's container. */
interface ContainerPosture {
  readonly add: readonly string[];
  readonly drop: readonly string[];
  readonly readOnlyRoot: boolean;
  readonly allowPrivilegeEscalation: boolean;
  readonly runAsUser: number | undefined;
  readonly cgroupReadOnly: boolean;
}

function daemonSetPosture(): ContainerPosture {
  const file = join(ROOT, 'deploy/daemonset.yaml');
  const ds = parse(readFileSync(file, 'utf8')) as {
    spec: {
      template: {
        spec: {
          containers: Array<{
            name: string;
            securityContext?: Record<string, unknown>;
            volumeMounts?: Array<{ name: string; readOnly?: boolean }>;
          }>;
          volumes: Array<{ name: string; hostPath?: { path: string } }>;
        };
      };
    };
  };
  const pod = ds.spec.template.spec;
  const container = pod.containers.find((c) => c.name === 'agent');
  if (!container?.securityContext) throw new Error(`${file}: no container "agent" with a securityContext`);
  const sc = container.securityContext as {
    capabilities?: { add?: string[]; drop?: string[] };
    readOnlyRootFilesystem?: boolean;
    allowPrivilegeEscalation?: boolean;
    runAsUser?: number;
  };
  const cgroupVolume = pod.volumes.find((v) => v.hostPath?.path === '/sys/fs/cgroup');
  const cgroupMount = container.volumeMounts?.find((m) => m.name === cgroupVolume?.name);
  if (!cgroupMount) throw new Error(`${file}: the agent does not mount the hostPath /sys/fs/cgroup`);
  return {
    add: sc.capabilities?.add ?? [],
    drop: sc.capabilities?.drop ?? [],
    readOnlyRoot: sc.readOnlyRootFilesystem === true,
    allowPrivilegeEscalation: sc.allowPrivilegeEscalation !== false,
    runAsUser: sc.runAsUser,
    cgroupReadOnly: cgroupMount.readOnly === true,
  };
}

/**
 * A command prefix that runs the agent as such a container would: its own mount namespace with
 * / and /sys read-only (bpffs, a mount of its own, stays writable as its hostPath is) and the
 * cgroup directory bind-mounted read-only, then setpriv keeps uid 0 but only `caps`, sets
 * no_new_privs, and execs. Every step execs, so the agent keeps the PID that was started.
 */
function containerLike(posture: ContainerPosture, caps: readonly string[], cgroupPath: string): string[] {
  const steps = ['mount -o remount,bind,ro /sys'];
  if (posture.readOnlyRoot) steps.push('mount -o remount,bind,ro /');
  if (posture.cgroupReadOnly) steps.push('mount --bind "$0" "$0"', 'mount -o remount,bind,ro "$0"');
  const bounding = ['-all', ...caps.map((c) => `+${c.toLowerCase()}`)].join(',');
  const setpriv = [requireTool('setpriv', 'util-linux'), `--bounding-set=${bounding}`, '--inh-caps=-all', '--ambient-caps=-all'];
  if (!posture.allowPrivilegeEscalation) setpriv.push('--no-new-privs');
  return [
    requireTool('unshare', 'util-linux'),
    '--mount',
    '--propagation',
    'private',
    '--',
    'sh',
    '-ec',
    `${steps.join('\n')}\nexec "$@"`,
    cgroupPath,
    ...setpriv,
    '--',
  ];
}

/** Capability names (cap_bpf, ...) in a /proc/<pid>/status mask, as capsh decodes it. */
function decodeCaps(hex: string): string[] {
  const out = execFileSync(requireTool('capsh', 'libcap2-bin'), [`--decode=${hex}`], { encoding: 'utf8' }).trim();
  const names = out.split('=')[1] ?? '';
  return names ? names.split(',').sort() : [];
}

function procStatus(pid: number): Record<string, string> {
  return Object.fromEntries(
    readFileSync(`/proc/${pid}/status`, 'utf8')
      .split('\n')
      .filter((l) => l.includes(':'))
      .map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()]),
  );
}

/** Mount point -> per-mount options (rw/ro first) of a process's mount namespace. */
function mountOptions(pid: number): Map<string, string> {
  const mounts = new Map<string, string>();
  for (const line of readFileSync(`/proc/${pid}/mountinfo`, 'utf8').trim().split('\n')) {
    const fields = line.split(' ');
    mounts.set(fields[4]!, fields[5]!); // later mounts on the same point hide earlier ones
  }
  return mounts;
}

// Read at collection time: the capabilities to take away one by one are the manifest's own.
const posture = daemonSetPosture();
let lab: KernelLab;
let stateDir: string;
const agents: AgentRun[] = [];

beforeAll(async () => {
  assertKernelPrereqs();
  lab = await KernelLab.create('caps');
  await lab.addPod('caps-web', [POD], [{ port: PORT, proto: 'tcp' }]);
  stateDir = mkdtempSync(join(tmpdir(), 'nearby-caps-'));
});

afterAll(async () => {
  for (const agent of agents) await agent.kill();
  await ifSetUp(lab)?.destroy(); // also removes the pin roots of its nodes
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
});

/** A manifest directory where `web` has one endpoint, on `nodeName` itself. */
function writeManifests(dir: string, nodeName: string): void {
  writeFileSync(join(dir, 'nodes.yaml'), nodeYaml(nodeName, 'r', 'z1', 's1'));
  writeFileSync(
    join(dir, 'service.yaml'),
    `apiVersion: v1
kind: Service
metadata: {name: web, namespace: sample}
spec:
  clusterIP: ${VIP}
  clusterIPs: ["${VIP}"]
  trafficDistribution: PreferClose
  ports: [{name: http, port: ${PORT}, targetPort: ${PORT}, protocol: TCP}]
`,
  );
  writeFileSync(join(dir, 'slices.yaml'), endpointSliceYaml('web', PORT, [{ address: POD, node: nodeName, pod: 'caps-web' }]));
}

describe('the DaemonSet asks for', () => {
  it('exactly BPF and NET_ADMIN, everything else dropped, as uid 0 without privilege escalation', () => {
    // The set this file proves necessary and sufficient below; a change to the manifest must
    // come with a change here, after the rest of this file shows the new set works.
    expect([...posture.add].sort()).toEqual(['BPF', 'NET_ADMIN']);
    expect(posture.drop).toEqual(['ALL']);
    expect(posture.runAsUser).toBe(0);
    expect(posture.allowPrivilegeEscalation).toBe(false);
    expect(posture.readOnlyRoot).toBe(true);
    expect(posture.cgroupReadOnly).toBe(true);
  });
});

describe("with exactly the DaemonSet's capabilities", () => {
  let node: SimNode;
  let client: Client;
  let healthPort: number;
  let dir: string;

  const launch = (): AgentRun => {
    const agent = startAgent({
      wrapper: containerLike(posture, posture.add, node.cgroupPath),
      args: [
        '--node-name',
        node.nodeName,
        '--cgroup-path',
        node.cgroupPath,
        '--state-dir',
        dir,
        '--listen',
        `127.0.0.1:${healthPort}`,
        ...SIZES,
      ],
    });
    agents.push(agent);
    return agent;
  };
  const ready = (agent: AgentRun) =>
    until('ready', async () => ((await health(healthPort, '/readyz')).status === 200 ? true : undefined), agent.log, 30_000);

  let first: AgentRun;

  beforeAll(async () => {
    node = await lab.addNode('exact');
    client = await node.client();
    dir = join(stateDir, 'exact');
    mkdirSync(dir);
    writeManifests(dir, node.nodeName);
    healthPort = await freePort();
    first = launch();
    await ready(first);
  });

  afterAll(async () => {
    await ifSetUp(client)?.close();
  });

  it('runs as the container would: only those capabilities, no_new_privs, read-only root, /sys and cgroup', () => {
    const pid = first.child.pid!;
    const status = procStatus(pid);
    const want = posture.add.map((c) => `cap_${c.toLowerCase()}`).sort();
    expect(decodeCaps(status['CapEff']!)).toEqual(want);
    expect(decodeCaps(status['CapPrm']!)).toEqual(want);
    expect(decodeCaps(status['CapBnd']!)).toEqual(want);
    expect(decodeCaps(status['CapInh']!)).toEqual([]);
    expect(decodeCaps(status['CapAmb']!)).toEqual([]);
    expect(status['Uid']!.split(/\s+/)).toEqual(['0', '0', '0', '0']);
    expect(status['NoNewPrivs']).toBe('1');
    const mounts = mountOptions(pid);
    expect(mounts.get('/')).toMatch(/^ro\b/);
    expect(mounts.get('/sys')).toMatch(/^ro\b/);
    expect(mounts.get(node.cgroupPath)).toMatch(/^ro\b/);
    expect(mounts.get('/sys/fs/bpf')).toMatch(/^rw\b/);
  });

  it('attaches every program to the cgroup and programs the maps', () => {
    expect(attachedPrograms(node.cgroupPath)).toHaveLength(PROGRAMS.length);
    const svc = readPinnedState(node.pinRoot).services.find((s) => s.key.address === VIP && s.key.port === PORT);
    expect(svc?.mode).toBe('FAILOVER');
    expect(svc?.tiers[0]?.map((b) => `${b.address}:${b.port}`)).toEqual([`${POD}:${PORT}`]);
  });

  it('rewrites a connect through the VIP to the endpoint', async () => {
    const results = await client.connect({ address: VIP, port: PORT, proto: 'tcp', count: 10 });
    expect(tally(results)).toEqual({ 'caps-web': 10 });
    // The application still sees the VIP as its peer: the reverse translation works too.
    expect(results.every((r) => r.peer?.address === VIP && r.peer.port === PORT)).toBe(true);
  });

  it('restarts as a rolling update does: the new agent adopts the pins and no connect fails', async () => {
    const loop = await client.loop({ address: VIP, port: PORT, proto: 'tcp', durationMs: 60_000, maxCount: 200_000 });
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    const second = launch();
    await ready(second);
    const results = await loop.stop();
    const spanMs = results.at(-1)!.t1 - results[0]!.t0;
    console.info(
      `restart under load: ${results.length} connects over ${Math.round(spanMs)} ms, ${results.filter((r) => !r.ok).length} failed`,
    );
    expect(results.length).toBeGreaterThan(20);
    expect(tally(results)).toEqual({ 'caps-web': results.length });

    const open = second.records().find((r) => r['msg'] === 'datapath open');
    expect(open?.['reusedMaps']).toEqual(expect.arrayContaining(['services', 'slots', 'backends']));
    expect([...(open?.['updatedLinks'] as string[])].sort()).toEqual([...PROGRAMS].sort());
    expect(attachedPrograms(node.cgroupPath)).toHaveLength(PROGRAMS.length);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  });
});

describe('with any one of them taken away', () => {
  it.each([...posture.add])('without %s it refuses to start, names what it needs, and leaves nothing behind', async (missing) => {
    const node = await lab.addNode(`no-${missing.toLowerCase().replace('_', '')}`);
    const dir = join(stateDir, `no-${missing}`);
    mkdirSync(dir);
    writeManifests(dir, node.nodeName);
    const { code, log } = await runAgentToExit({
      wrapper: containerLike(
        posture,
        posture.add.filter((c) => c !== missing),
        node.cgroupPath,
      ),
      args: ['--node-name', node.nodeName, '--cgroup-path', node.cgroupPath, '--state-dir', dir, '--listen', '127.0.0.1:0', ...SIZES],
    });
    expect(code).toBe(2);
    expect(log).toMatch(
      /^nearby-agent: no-bpf-permission: no permission to load BPF programs or pin under \S+ \(.*EPERM.*\): run with CAP_BPF and CAP_NET_ADMIN, or as root$/m,
    );
    expect(log).toContain(node.pinRoot);
    expect(existsSync(node.pinRoot)).toBe(false);
    expect(attachedPrograms(node.cgroupPath)).toEqual([]);
  });
});
