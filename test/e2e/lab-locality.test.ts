// The seed's experiment on the lab: three labelled workers, a helloworld per worker, sleep on
// worker 1, a PreferClose Service. Curl from the sleep pod must answer from the local instance,
// exactly as the real helloworld does; a VIP without endpoints and an address nobody owns must
// fail at once, the way they fail on a real node with nearby.
import { execFile, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostEnv, isLabNetns, readRecord, type LabClient, type LabRecord } from '../../lab/index.js';
import { findExecutable } from '../../lab/primitives.js';
import { bodies, curlAttempts, downExpectingNothingLeft, isLiveProcess, ROOT, seedLab, upLabWithSleep } from './lab-fixture.js';

const NAME = `e2e-loc-${process.pid}`;
let lab: LabClient;
let record: LabRecord;
let sleepPod: string;
let upMs = 0;

const HELLO = 'http://helloworld:5000/hello';
/** Curls here must answer at once; a slow one is a failure, not something to wait out. */
const CURL_MAX_S = 2;
const curlBodies = async (count: number) => bodies(await curlAttempts(lab, sleepPod, HELLO, count, { maxTimeS: CURL_MAX_S }));

/** The real CLI, as a person runs it. */
function nearbyctl(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(ROOT, 'dist/cmd/nearbyctl.js'), 'lab', '--name', NAME, ...args],
      { timeout: 30_000 },
      (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
      },
    );
  });
}
const POD_NAME = (deployment: string) =>
  new RegExp(`^${deployment.replaceAll('.', '\\.')}-[4-9bcdf]{6,10}-[bcdfghjklmnpqrstvwxz2456789]{5}$`);

beforeAll(async () => {
  // No name: the lab takes the kind Cluster's, which sample() set to NAME.
  const up = await upLabWithSleep({ text: seedLab(NAME), timeoutMs: 60_000 });
  ({ lab, sleepPod } = up);
  upMs = up.elapsedMs;
  record = up.record!;
}, 90_000);

afterAll(async () => {
  const down = await downExpectingNothingLeft(NAME, lab, record);
  console.info(`lab ${NAME}: up in ${upMs} ms, down in ${down.elapsedMs} ms`);
});

describe('the seed experiment on a three-worker lab', () => {
  it('comes up in seconds with kind node names, labels and an agent per node', async () => {
    // A gross-regression guard, not a benchmark: ~10 s here; a verifier path explosion once made it 16 s.
    expect(upMs).toBeLessThan(30_000);
    const status = await lab.status();
    expect(status.nodes.map((n) => n.name)).toEqual([`${NAME}-control-plane`, `${NAME}-worker`, `${NAME}-worker2`, `${NAME}-worker3`]);
    for (const node of status.nodes) {
      expect(node.agent.ready).toBe(true);
      expect(node.labels['kubernetes.io/hostname']).toBe(node.name);
      expect(node.labels['kubernetes.io/os']).toBe('linux');
    }
    expect(status.nodes[0]?.labels['node-role.kubernetes.io/control-plane']).toBe('');
    expect(status.nodes[2]?.labels['topology.kubernetes.io/subzone']).toBe('subzone2');
    const pods = await lab.pods({ namespace: 'sample' });
    expect(pods.map((p) => [p.labels['app'], p.node, p.ready])).toEqual([
      ['helloworld', `${NAME}-worker`, true],
      ['helloworld', `${NAME}-worker2`, true],
      ['helloworld', `${NAME}-worker3`, true],
      ['sleep', `${NAME}-worker`, true],
    ]);
    expect(pods[0]?.name).toMatch(POD_NAME('helloworld-region.zone1.subzone1'));
    expect(pods[0]?.ip).toMatch(/^10\.244\.1\.\d+$/);
    const service = status.services.find((s) => s.name === 'helloworld');
    expect(service?.clusterIP).toMatch(/^10\.96\.\d+\.\d+$/);
  });

  it('publishes EndpointSlices with node, zone and conditions for the agents', () => {
    const slices = readFileSync(`${lab.paths.clusterDir}/endpointslices.yaml`, 'utf8');
    expect(slices).toContain('kubernetes.io/service-name: helloworld');
    expect(slices).toContain(`nodeName: ${NAME}-worker3`);
    expect(slices).toContain('zone: zone2');
    expect(slices).toMatch(/ready: true\n\s+serving: true\n\s+terminating: false/);
  });

  it('answers every curl from the local instance, in the real helloworld format', async () => {
    const [local] = await lab.pods({ namespace: 'sample', selector: 'version=region.zone1.subzone1' });
    expect(await curlBodies(20)).toEqual({ [`Hello version: region.zone1.subzone1, instance: ${local?.name}`]: 20 });
    const once = await lab.exec(sleepPod, ['curl', '-sS', HELLO], { namespace: 'sample' });
    expect(once).toMatchObject({ code: 0, stdout: `Hello version: region.zone1.subzone1, instance: ${local?.name}\n` });
  });

  it('answers other paths with 404, as Flask does', async () => {
    const r = await lab.exec(sleepPod, ['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', 'http://helloworld:5000/nope'], {
      namespace: 'sample',
    });
    expect(r.stdout).toBe('404');
  });

  it('refuses a connect to the VIP of a Service without endpoints at once (curl exit 7, connection refused)', async () => {
    await lab.apply(
      { text: 'apiVersion: v1\nkind: Service\nmetadata: {name: nobody}\nspec:\n  selector: {app: nobody}\n  ports: [{port: 80}]\n' },
      { namespace: 'sample' },
    );
    const started = Date.now();
    const r = await lab.exec(sleepPod, ['curl', '-sS', '-v', '--max-time', '5', 'http://nobody/'], { namespace: 'sample' });
    expect(r.code).toBe(7);
    expect(r.stderr).toMatch(/Connection refused/);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('fails a connect to an address nobody owns as unreachable: nothing leaves the lab', async () => {
    const vips = new Set((await lab.status()).services.map((s) => s.clusterIP));
    const unowned = ['10.96.7.7', '10.96.7.8'].find((a) => !vips.has(a))!;
    const r = await lab.exec(sleepPod, ['curl', '-sS', '-v', '--max-time', '5', `http://${unowned}:5000/hello`], { namespace: 'sample' });
    expect(r.code).toBe(7);
    expect(r.stderr).toMatch(/Network is unreachable/);
  });

  it('runs exec in the pod: its netns, its cgroup under its node, its hostname and hosts file', async () => {
    const r = await lab.exec(
      sleepPod,
      ['sh', '-c', 'cat /proc/self/cgroup; echo "host=$HOSTNAME"; ip -4 -o addr show dev eth0; ip route show; getent hosts helloworld'],
      { namespace: 'sample' },
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^0::/nearby-lab/${NAME}/${NAME}-worker/sample\\.${sleepPod.replaceAll('.', '\\.')}$`, 'm'));
    expect(r.stdout).toContain(`host=${sleepPod}`);
    expect(r.stdout).toMatch(/inet 10\.244\.1\.\d+\/16/);
    expect(r.stdout).not.toMatch(/default/);
    expect(r.stdout).toMatch(/^10\.96\.\d+\.\d+\s+helloworld\.sample\.svc\.cluster\.local/m);
  });

  it('passes the exit code of the command through', async () => {
    const r = await lab.exec(sleepPod, ['sh', '-c', 'echo out; echo err >&2; exit 3'], { namespace: 'sample' });
    expect(r).toMatchObject({ code: 3, stdout: 'out\n', stderr: 'err\n' });
  });

  it('gives no namespace of the lab a route out: only connected routes, no default', () => {
    const ip = hostEnv().ip;
    const mine = execFileSync(ip, ['netns', 'list'], { encoding: 'utf8' })
      .split('\n')
      .map((l) => l.split(' ')[0] ?? '')
      .filter((n) => isLabNetns(NAME, n));
    expect(mine).toHaveLength(5); // the bridge and four pods
    for (const netns of mine) {
      for (const family of ['-4', '-6']) {
        const routes = JSON.parse(
          execFileSync(ip, ['-j', family, '-n', netns, 'route', 'show', 'table', 'all'], { encoding: 'utf8' }),
        ) as Array<{ dst: string; gateway?: string }>;
        expect(
          routes.filter((r) => r.dst === 'default' || r.gateway),
          `${netns} ${family}`,
        ).toEqual([]);
      }
      const links = JSON.parse(execFileSync(ip, ['-j', '-n', netns, 'link', 'show'], { encoding: 'utf8' })) as Array<{ ifname: string }>;
      const names = links.map((l) => l.ifname).filter((n) => n !== 'lo');
      expect(
        names.every((n) => n === 'eth0' || n === 'br0' || /^vp\d+$/.test(n)),
        `${netns}: ${names.join(',')}`,
      ).toBe(true);
    }
  });

  it('attaches BPF to its four node cgroups and nowhere else', () => {
    const host = hostEnv();
    const bpftool = findExecutable('bpftool');
    expect(bpftool, 'bpftool (make apt installs it)').toBeDefined();
    const tree = JSON.parse(execFileSync(bpftool!, ['-j', 'cgroup', 'tree', host.cgroup2], { encoding: 'utf8' })) as Array<{
      cgroup: string;
      programs: Array<{ name: string }>;
    }>;
    const withNearby = tree.filter((c) => c.programs.some((p) => p.name.startsWith('nearby_'))).map((c) => c.cgroup);
    const root = lab.paths.cgroupRoot;
    expect(withNearby.filter((c) => c === root || c.startsWith(`${root}/`)).sort()).toEqual(record.nodes.map((n) => n.cgroup).sort());
    expect(withNearby).not.toContain(host.cgroup2);
  });

  it('records every pod, agent and pin root it made', () => {
    const now = readRecord(lab.paths.record)!;
    expect(now.nodes.map((n) => n.pinRoot)).toEqual(now.nodes.map((n) => `${now.bpffs}/nearby/${n.name}`));
    expect(now.nodes.every((n) => n.agent?.pid)).toBe(true);
    expect(now.pods).toHaveLength(4);
    expect(now.pods.every((p) => p.netns.startsWith(`nbl.${NAME}.sample.`))).toBe(true);
  });

  it('works from the CLI: get pods -o jsonpath, exec with the exit code passed through, status', async () => {
    const name = await nearbyctl('get', 'pods', '-n', 'sample', '-l', 'app=sleep', '-o', 'jsonpath={.items[0].metadata.name}');
    expect(name).toMatchObject({ code: 0, stdout: `${sleepPod}\n` });
    const hello = await nearbyctl('exec', '-n', 'sample', sleepPod, '-c', 'sleep', '--', 'curl', '-sS', HELLO);
    expect(hello.code).toBe(0);
    expect(hello.stdout).toMatch(/^Hello version: region\.zone1\.subzone1, instance: helloworld-region\.zone1\.subzone1-/);
    expect((await nearbyctl('exec', '-n', 'sample', 'deployment/sleep', '--', 'sh', '-c', 'exit 5')).code).toBe(5);
    const status = await nearbyctl('status');
    expect(status.stdout).toMatch(new RegExp(`${NAME}-worker3\\s+worker\\s+region/zone2/subzone3\\s+10\\.244\\.3\\.0/24\\s+ready`));
    expect(status.stdout).toMatch(
      /sample\/helloworld\s+10\.96\.\d+\.\d+\s+5000\/TCP\s+FAILOVER \(spec\.trafficDistribution=PreferClose\)\s+3\/3 ready/,
    );
    const bad = await nearbyctl('label', 'node', `${NAME}-worker`, 'topology.kubernetes.io/zone=zone9');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("'topology.kubernetes.io/zone' already has a value (zone1), and --overwrite is false");
  });

  it('restarts a node agent killed with SIGKILL, and the node converges again', async () => {
    const before = (await lab.status()).nodes.find((n) => n.name === `${NAME}-worker`)!;
    process.kill(before.agent.pid!, 'SIGKILL');
    const deadline = Date.now() + 15_000;
    let after = before;
    while (Date.now() < deadline) {
      after = (await lab.status()).nodes.find((n) => n.name === `${NAME}-worker`)!;
      if (after.agent.restarts === 1 && after.agent.ready) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(after.agent).toMatchObject({ ready: true, restarts: 1 });
    expect(after.agent.pid).not.toBe(before.agent.pid);
    expect(isLiveProcess(before.agent.pid!)).toBe(false);
    await lab.wait(10_000);
    const [local] = await lab.pods({ namespace: 'sample', selector: 'version=region.zone1.subzone1' });
    expect(await curlBodies(5)).toEqual({ [`Hello version: region.zone1.subzone1, instance: ${local?.name}`]: 5 });
  });

  it('returns from delete only when every node has failed over: the very next curl goes to subzone2', async () => {
    const lines = await lab.delete('deployment', 'helloworld-region.zone1.subzone1', { namespace: 'sample' });
    expect(lines).toEqual(['deployment.apps "helloworld-region.zone1.subzone1" deleted']);
    const [next] = await lab.pods({ namespace: 'sample', selector: 'version=region.zone1.subzone2' });
    expect(await curlBodies(10)).toEqual({ [`Hello version: region.zone1.subzone2, instance: ${next?.name}`]: 10 });
    expect((await lab.pods({ namespace: 'sample' })).map((p) => p.labels['version'] ?? p.labels['app'])).toEqual([
      'region.zone1.subzone2',
      'region.zone2.subzone3',
      'sleep',
    ]);
    expect(readFileSync(`${lab.paths.clusterDir}/endpointslices.yaml`, 'utf8')).not.toContain('subzone1');
  });
});
