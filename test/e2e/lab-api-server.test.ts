// The lab's API server published as a real cluster's (issue 18): default/kubernetes has the
// EndpointSlice the API server's own lease reconciler wrote, at the lab's own address; a pod
// reaches the real API server at 10.96.0.1:443 through nearby (TLS verified with the lab's CA);
// `nearbyctl plan` and `explain` show the endpoint instead of a refusing Service; the pod's only
// new route is an on-link /32, so still no route out; and lab down after a crashed supervisor
// removes the veth, its rule and its routing table.
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  API_SERVER_PORT,
  apiHostDevice,
  hostEnv,
  readRecord,
  resolveControlPlaneBinaries,
  type LabClient,
  type LabRecord,
} from '../../lab/index.js';
import { apiServerFromPod, downExpectingNothingLeft, leftoversOf, seedLab, upLabWithSleep } from './lab-fixture.js';
import { ifSetUp } from '../fixtures/if-set-up.js';
import { runNearbyctl } from '../../cmd/ctl/run.js';

const NAME = `e2e-api-${process.pid}`;
let lab: LabClient;
let record: LabRecord | undefined;
let sleepPod = '';
let kubeconfig = '';
/** The address the lab published its API server at, as its EndpointSlice says. */
let address = '';

const ip = (args: string[]): unknown => JSON.parse(execFileSync(hostEnv().ip, ['-j', ...args], { encoding: 'utf8' }) || '[]');
/** A routing table's routes; a table that no longer exists has none. */
const tableRoutes = (table: string): Route[] => {
  try {
    return ip(['route', 'show', 'table', table]) as Route[];
  } catch {
    return [];
  }
};
const kubectl = (args: string[]): string =>
  execFileSync(resolveControlPlaneBinaries().kubectl, args, { env: { ...process.env, KUBECONFIG: kubeconfig }, encoding: 'utf8' });
/** nearbyctl in this process, as test/cluster/nearbyctl-live.test.ts runs it, reading the lab's cluster through its kubeconfig. */
const nearbyctl = async (args: string[]): Promise<string> => {
  const out: string[] = [];
  const code = await runNearbyctl(args, { out: (l) => out.push(l), err: (l) => out.push(l) }, { ...process.env, KUBECONFIG: kubeconfig });
  expect(code, out.join('\n')).toBe(0);
  return out.join('\n');
};

interface Slice {
  endpoints: Array<{ addresses: string[]; conditions?: { ready?: boolean } }>;
  ports: Array<{ port: number; name?: string }>;
}
interface Route {
  dst?: string;
  dev?: string;
  gateway?: string;
  type?: string;
}

beforeAll(async () => {
  ({ lab, record, sleepPod } = await upLabWithSleep({ text: seedLab(NAME), name: NAME, timeoutMs: 90_000, controlPlane: true }));
  kubeconfig = (await lab.status()).kubeconfig ?? '';
}, 150_000);

afterAll(async () => {
  if (ifSetUp(lab) && existsSync(lab.paths.record)) await downExpectingNothingLeft(NAME, lab, record);
});

describe.sequential("the lab's API server, published as default/kubernetes", () => {
  it('has the EndpointSlice the API server wrote itself: its own address and secure port, which the kubeconfig uses', () => {
    const slices = (
      JSON.parse(kubectl(['get', 'endpointslices', '-n', 'default', '-l', 'kubernetes.io/service-name=kubernetes', '-o', 'json'])) as {
        items: Slice[];
      }
    ).items;
    expect(slices).toHaveLength(1);
    const [slice] = slices as [Slice];
    expect(slice.endpoints).toHaveLength(1);
    expect(slice.ports.map((p) => p.port)).toEqual([API_SERVER_PORT]);
    address = slice.endpoints[0]!.addresses[0]!;
    expect(address).toMatch(/^172\.30\.\d{1,3}\.1$/);
    expect(kubectl(['config', 'view', '-o', 'jsonpath={.clusters[0].cluster.server}'])).toBe(`https://${address}:${API_SERVER_PORT}`);
    // On the host end of the lab's own veth, and nowhere else.
    const holders = (ip(['addr', 'show']) as Array<{ ifname: string; addr_info: Array<{ local: string }> }>)
      .filter((l) => l.addr_info.some((a) => a.local === address))
      .map((l) => l.ifname);
    expect(holders).toEqual([apiHostDevice(NAME)]);
  });

  it('answers a pod at 10.96.0.1:443 through nearby: the real API server, verified with the lab CA', async () => {
    const version = await apiServerFromPod(lab, sleepPod, '/version');
    expect(version.stderr).toBe('');
    expect([version.code, version.status]).toEqual([0, 200]);
    expect((JSON.parse(version.body) as { gitVersion: string }).gitVersion).toBe(resolveControlPlaneBinaries().version);
    const healthz = await apiServerFromPod(lab, sleepPod, '/healthz');
    expect([healthz.code, healthz.status, healthz.body]).toEqual([0, 200, 'ok']);
  });

  it('shows default/kubernetes with its endpoint in plan and explain, programmed, not refusing', async () => {
    const node = `${NAME}-worker`;
    const explained = await nearbyctl(['explain', 'default/kubernetes', '--node', node]);
    expect(explained).toContain(`uses tier 0, shared evenly by 1 endpoint(s): ${address}:${API_SERVER_PORT}`);
    expect(explained).toContain('10.96.0.1:443/TCP: programmed as planned');
    expect(explained).not.toContain('no endpoint');
    const planned = await nearbyctl(['plan', '--node', node]);
    const section = planned.split('\n\n').find((s) => s.startsWith('default/kubernetes'));
    expect(section).toContain(`${address}:${API_SERVER_PORT}`);
    expect(section).not.toContain('fail at once');
  });

  // As a shell runs it: with --lab, explain loads the lab package to find the cluster, lists it and
  // reads the node's pins (libbpf); once it has printed, nothing of those may keep the process
  // alive. It printed, then hung until killed.
  it('exits once it has printed, when run as a process that reads both the cluster and the pins', async () => {
    const args = ['dist/cmd/nearbyctl.js', 'explain', 'default/kubernetes', '--lab', NAME, '--node', `${NAME}-worker`];
    // Its output to a file, as `nearbyctl explain ... > file` in a script: the way it was seen to hang.
    const dir = mkdtempSync(join(tmpdir(), 'nearbyctl-exit-'));
    const outFile = join(dir, 'out');
    const fd = openSync(outFile, 'w');
    const child = spawn(process.execPath, args, { stdio: ['ignore', fd, fd] });
    closeSync(fd);
    const exited = await new Promise<number | null | 'still running after 60 s'>((resolve) => {
      const timer = setTimeout(() => resolve('still running after 60 s'), 60_000);
      child.on('exit', (code) => {
        clearTimeout(timer);
        resolve(code);
      });
    });
    if (typeof exited === 'string') child.kill('SIGKILL');
    const out = readFileSync(outFile, 'utf8');
    rmSync(dir, { recursive: true, force: true });
    expect(out).toContain('10.96.0.1:443/TCP: programmed as planned');
    expect(exited).toBe(0);
  }, 90_000);

  it('adds only an on-link /32 to the pod: no default route, nothing past the lab, no host route into it', async () => {
    const routes = await lab.exec(sleepPod, ['ip', '-j', 'route', 'show', 'table', 'all'], { namespace: 'sample' });
    const table = JSON.parse(routes.stdout) as Route[];
    expect(table.filter((r) => r.dst === 'default')).toEqual([]);
    expect(table.filter((r) => r.gateway !== undefined)).toEqual([]);
    expect(table.find((r) => r.dst === address)).toMatchObject({ dev: 'eth0' });
    const out = await lab.exec(sleepPod, ['ip', 'route', 'get', '203.0.113.1'], { namespace: 'sample' });
    expect(out.code).not.toBe(0);
    expect(out.stderr).toMatch(/unreachable/i);
    // The host's main table learns nothing of the lab; replies from the address have a table of their own.
    const podRange = (await lab.status()).nodes[0]!.podCidr.replace(/\.\d+\.0\/24$/, '.0.0/16');
    expect((ip(['route', 'show', 'table', 'main']) as Route[]).filter((r) => r.dst === podRange)).toEqual([]);
    const rule = (ip(['rule', 'show']) as Array<{ src?: string; table?: string }>).find((r) => r.src === address);
    expect(rule?.table).toBeDefined();
    const own = tableRoutes(rule!.table!).map((r) => ({ dst: r.dst, dev: r.dev, type: r.type }));
    expect(own).toEqual(
      expect.arrayContaining([
        { dst: podRange, dev: apiHostDevice(NAME), type: undefined },
        { dst: 'default', dev: undefined, type: 'unreachable' },
      ]),
    );
    expect(own).toHaveLength(2);
  });

  it('is removed with the lab after its supervisor was SIGKILLed: veth, rule and table', async () => {
    const latest = readRecord(lab.paths.record)!;
    process.kill(latest.supervisor!.pid, 'SIGKILL');
    const rule = (ip(['rule', 'show']) as Array<{ src?: string; table?: string }>).find((r) => r.src === address)!;
    await downExpectingNothingLeft(NAME, lab, latest);
    expect(leftoversOf(NAME, latest)).toEqual([]);
    expect((ip(['link', 'show']) as Array<{ ifname: string }>).map((l) => l.ifname)).not.toContain(apiHostDevice(NAME));
    expect((ip(['rule', 'show']) as Array<{ src?: string }>).filter((r) => r.src === address)).toEqual([]);
    expect(tableRoutes(rule.table!)).toEqual([]);
  });
});
