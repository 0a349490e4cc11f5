// `lab down` must leave nothing behind (netns, cgroups, pins, /etc/netns entries, state dir,
// processes), also after the supervisor was SIGKILLed; `lab up` must clean a dead lab's
// leftovers, refuse a live one, refuse pins it does not own, and reject an unknown image
// before it creates anything.
import { existsSync, mkdirSync, rmdirSync } from 'node:fs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { hostEnv, labDown, labPaths, labUp, LabError, readRecord, type LabRecord } from '../../lab/index.js';
import { assertLabPrereqs, isLiveProcess as isAlive, leftoversOf, processesInLabCgroups, sample } from './lab-fixture.js';

const NAME = `e2e-down-${process.pid}`;

function smallLab(name: string, extra = ''): string {
  return [
    'kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n- role: control-plane\n- role: worker\n',
    sample('helloworld-service.yaml', name),
    sample('helloworld-region.zone1.subzone1.yaml', name),
    sample('sleep.yaml', name),
    ...(extra ? [extra] : []),
  ].join('---\n');
}

async function until(what: string, condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

beforeAll(() => assertLabPrereqs());

afterEach(async () => {
  // Whatever a failed test left, the next one starts clean.
  await labDown({ name: NAME }).catch(() => undefined);
});

describe('lab down', () => {
  it('removes netns, cgroups, pins, /etc/netns entries, the state dir and every process', async () => {
    const { lab, elapsedMs } = await labUp({ text: smallLab(NAME), name: NAME, namespace: 'sample' });
    const record = readRecord(lab.paths.record)!;
    // Everything the check below looks for exists first, or the check would prove nothing.
    expect(leftoversOf(NAME, record).sort()).toEqual(
      expect.arrayContaining([
        `cgroup ${lab.paths.cgroupRoot}`,
        `netns nbl.${NAME}`,
        `state dir ${lab.paths.stateDir}`,
        `pins ${record.nodes[1]!.pinRoot}`,
        `process ${record.supervisor!.pid}`,
      ]),
    );
    expect(leftoversOf(NAME, record).filter((l) => l.startsWith('/etc/netns/'))).toHaveLength(2);
    expect(processesInLabCgroups(NAME).length).toBeGreaterThanOrEqual(6); // supervisor, 2 agents, 2 pods, prober

    const down = await labDown({ name: NAME });
    console.info(`small lab: up in ${elapsedMs} ms, down in ${down.elapsedMs} ms`);
    expect(down.existed).toBe(true);
    expect(down.remaining).toEqual([]);
    expect(leftoversOf(NAME, record)).toEqual([]);
    expect(processesInLabCgroups(NAME)).toEqual([]);
  });

  it('removes everything after the supervisor was killed with SIGKILL', async () => {
    const { lab } = await labUp({ text: smallLab(NAME), name: NAME, namespace: 'sample' });
    const record = readRecord(lab.paths.record)!;
    const supervisor = record.supervisor!.pid;
    const orphans = [...record.nodes.map((n) => n.agent!.pid), ...record.pods.flatMap((p) => p.processes.map((q) => q.pid))];
    process.kill(supervisor, 'SIGKILL');
    await until('the supervisor to die', () => !isAlive(supervisor));
    expect(orphans.filter(isAlive)).toEqual(orphans); // agents and pods outlive it: down must end them

    const down = await labDown({ name: NAME });
    expect(down.remaining).toEqual([]);
    expect(leftoversOf(NAME, record)).toEqual([]);
    expect(orphans.filter(isAlive)).toEqual([]);
  });
});

describe('lab up', () => {
  let record: LabRecord | undefined;

  it('cleans the leftovers of a lab whose supervisor died, and says so', async () => {
    const first = await labUp({ text: smallLab(NAME), name: NAME, namespace: 'sample' });
    record = readRecord(first.lab.paths.record)!;
    process.kill(record.supervisor!.pid, 'SIGKILL');
    await until('the supervisor to die', () => !isAlive(record!.supervisor!.pid));

    const said: string[] = [];
    const second = await labUp({ text: smallLab(NAME), name: NAME, namespace: 'sample', log: (l) => said.push(l) });
    expect(said.join('\n')).toMatch(
      new RegExp(`removed leftovers of an earlier lab ${NAME} whose supervisor is gone: .*pins .*${NAME}-worker`),
    );
    expect(record.nodes.map((n) => n.agent!.pid).filter(isAlive)).toEqual([]);
    expect((await second.lab.pods({ namespace: 'sample' })).every((p) => p.ready)).toBe(true);
  });

  it('refuses to start over a lab that is up', async () => {
    await labUp({ text: smallLab(NAME), name: NAME, namespace: 'sample' });
    await expect(labUp({ text: smallLab(NAME), name: NAME, namespace: 'sample' })).rejects.toMatchObject({
      code: 'conflict',
      message: expect.stringMatching(/already up/) as unknown,
    });
  });

  it('refuses pins for its nodes that no lab owns, and touches nothing', async () => {
    const host = hostEnv();
    const foreign = `${labPaths(NAME, host.cgroup2, host.bpffs).pinBase}/${NAME}-worker`;
    mkdirSync(foreign, { recursive: true });
    try {
      await expect(labUp({ text: smallLab(NAME), name: NAME, namespace: 'sample' })).rejects.toMatchObject({
        code: 'conflict',
        message: expect.stringContaining(foreign) as unknown,
      });
      expect(existsSync(foreign)).toBe(true);
      expect(existsSync(labPaths(NAME, host.cgroup2, host.bpffs).stateDir)).toBe(false);
    } finally {
      rmdirSync(foreign);
    }
  });

  it('rejects an unknown image before creating anything, naming the workload and the image', async () => {
    const nginx =
      'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers: [{name: nginx, image: "nginx:1.27"}]\n';
    const error = await labUp({ text: smallLab(NAME, nginx), name: NAME, namespace: 'sample' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LabError);
    expect(error).toMatchObject({ code: 'invalid' });
    expect((error as Error).message).toMatch(
      /Deployment sample\/web: spec\.template\.spec\.containers\[0\]\.image: image "nginx:1\.27" is not one the lab can run/,
    );
    const host = hostEnv();
    expect(existsSync(labPaths(NAME, host.cgroup2, host.bpffs).stateDir)).toBe(false);
  });

  it('rejects an unknown image in lab apply and leaves the running lab as it was', async () => {
    const { lab } = await labUp({ text: smallLab(NAME), name: NAME, namespace: 'sample' });
    const before = (await lab.pods({ namespace: 'sample' })).map((p) => p.name);
    const pod = 'apiVersion: v1\nkind: Pod\nmetadata: {name: mystery}\nspec:\n  containers: [{name: main, image: example.com/mystery:2}]\n';
    await expect(
      lab.apply({ text: `${pod}---\napiVersion: v1\nkind: Namespace\nmetadata: {name: other}\n` }, { namespace: 'sample' }),
    ).rejects.toMatchObject({
      code: 'invalid',
      message: expect.stringMatching(/Pod sample\/mystery: spec\.containers\[0\]\.image: image "example\.com\/mystery:2"/) as unknown,
    });
    expect((await lab.pods({ namespace: 'sample' })).map((p) => p.name)).toEqual(before);
    expect((await lab.status()).pods.some((p) => p.namespace === 'other')).toBe(false);
  });
});
