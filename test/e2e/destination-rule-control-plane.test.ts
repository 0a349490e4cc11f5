// Istio DestinationRules on the lab's real control plane, judged by who answers real TCP connects
// from a client pod through its node's datapath: failover to the named region, distribute's
// weights within binomial bounds (and a gone locality's share moving to the others in
// proportion), ROUND_ROBIN's exact rotation, LEAST_REQUEST's balance of held connections, and a
// rule changed through the API server taking effect in the running agent, and consistentHash
// (Maglev) keeping each client pod on its endpoint. The CRD is this
// project's deploy/crds/destinationrule.yaml, applied with kubectl as a user would.
//
// Layout: worker r1/z1 (the client), worker2 r1/z2, worker3 r2/z3, worker4 r3/z4. Service hello
// starts with endpoints in r2 and r3 only; services rr and lr share three pods trio-a/b/c; the
// Maglev case adds service mg over five pods mg-a..e and seven client pods mclient on worker.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labUp, readRecord, resolveControlPlaneBinaries, type LabClient, type LabRecord } from '../../lab/index.js';
import { MAGLEV_DEFAULT_TABLE_SIZE } from '../../pkg/planner/index.js';
import { maglevBackendIdentity, maglevTable } from '../../pkg/reconciler/index.js';
import { ifSetUp } from '../fixtures/if-set-up.js';
import { assertLabPrereqs, downExpectingNothingLeft, ROOT } from './lab-fixture.js';
import {
  clientYaml,
  clusterYaml,
  expectShares,
  helloDeployment,
  kubectl as kubectlAt,
  probe,
  ruleJson,
  serviceYaml,
  total,
  type Worker,
} from './destination-rule-fixture.js';

const NAME = `e2e-dr-${process.pid}`;
const CRD = join(ROOT, 'deploy/crds/destinationrule.yaml');
/** Wide enough that a correct datapath fails about once in 150,000 runs per share, narrow enough to exclude an even split. */
const SIGMAS = 4.5;

let lab: LabClient;
let record: LabRecord | undefined;
let kubeconfig: string;
let clientPod: string;
const vip: Record<string, string> = {};
/** Each node's agent PID when the rules start: the rules must take effect without a restart. */
let agentPids: Record<string, number>;

/** Maglev: five endpoints over the four workers, seven client pods (each its own netns, so its own client). */
const MAGLEV_ENDPOINTS: ReadonlyArray<readonly [string, Worker]> = [
  ['mg-a', 'worker'],
  ['mg-b', 'worker2'],
  ['mg-c', 'worker3'],
  ['mg-d', 'worker4'],
  ['mg-e', 'worker2'],
];
const MAGLEV_CLIENTS = 7;
/** Connects per client pod: under RANDOM over five endpoints, 20 all alike happen once in 10^13. */
const MAGLEV_CONNECTS = 20;

const kubectl = (args: string[], input?: string): Promise<string> =>
  kubectlAt(resolveControlPlaneBinaries().kubectl, kubeconfig, args, input);

/** kubectl apply of a rule, then the lab's wait: every node's maps hold what the planner says for it. */
async function applyRule(json: string): Promise<void> {
  await kubectl(['apply', '-f', '-'], json);
  await lab.wait(30_000);
}

/** Where each client pod lands: its one answer over MAGLEV_CONNECTS connects, or the test fails. */
async function landings(clients: readonly string[], ip: string): Promise<string[]> {
  const out: string[] = [];
  for (const pod of clients) {
    const { answers, failures } = await probe(lab, pod, 'count', ip, MAGLEV_CONNECTS);
    expect(failures).toEqual({});
    expect(Object.keys(answers), `${pod}: ${JSON.stringify(answers)}`).toHaveLength(1);
    out.push(Object.keys(answers)[0]!);
  }
  return out;
}

/** The Maglev table the agent should program over the running pods of `selector`, as versions per slot. */
async function maglevTableOf(selector: string): Promise<string[]> {
  const pods = (await lab.pods({ namespace: 'sample', selector })).filter((p) => p.ip && !p.terminating);
  const backends = pods.map((p) => ({ address: p.ip!, port: 5000, nodeId: 0, terminating: false, version: p.labels['version']! }));
  return maglevTable(backends, maglevBackendIdentity, MAGLEV_DEFAULT_TABLE_SIZE).map((b) => b.version);
}

async function agentPidsNow(): Promise<Record<string, number>> {
  return Object.fromEntries((await lab.status()).nodes.map((n) => [n.name, n.agent.pid ?? 0]));
}

beforeAll(async () => {
  const text = [
    clusterYaml(NAME),
    serviceYaml('hello', 'hello'),
    helloDeployment(NAME, 'r2-z3', 'hello', 'worker3'),
    helloDeployment(NAME, 'r3-z4', 'hello', 'worker4'),
    serviceYaml('rr', 'trio'),
    serviceYaml('lr', 'trio'),
    helloDeployment(NAME, 'trio-a', 'trio', 'worker'),
    helloDeployment(NAME, 'trio-b', 'trio', 'worker2'),
    helloDeployment(NAME, 'trio-c', 'trio', 'worker3'),
    clientYaml(NAME),
  ].join('---\n');
  await assertLabPrereqs();
  ({ lab } = await labUp({ text, name: NAME, timeoutMs: 90_000, controlPlane: true, namespace: 'sample' }));
  record = readRecord(lab.paths.record);
  kubeconfig = (await lab.status()).kubeconfig ?? '';
  clientPod = await lab.podName('app=client', 'sample');
  for (const service of ['hello', 'rr', 'lr'])
    vip[service] = (await kubectl(['get', 'service', service, '-n', 'sample', '-o', 'jsonpath={.spec.clusterIP}'])).trim();
  await kubectl(['apply', '-f', CRD]);
  await kubectl(['wait', '--for=condition=Established', 'crd/destinationrules.networking.istio.io', '--timeout=30s']);
  agentPids = await agentPidsNow();
}, 150_000);

afterAll(async () => {
  if (ifSetUp(lab) ?? record) await downExpectingNothingLeft(NAME, ifSetUp(lab), record);
}, 60_000);

describe('DestinationRules on the real control plane, by who answers connects from r1/z1', () => {
  it('before any rule, hello has no locality: both r2 and r3 answer', async () => {
    const { answers, failures } = await probe(lab, clientPod, 'count', vip['hello']!, 200);
    expect(failures).toEqual({});
    expect(Object.keys(answers).sort()).toEqual(['r2-z3', 'r3-z4']);
  });

  it('failover r1 -> r3: with r1 empty every connect goes to r3, not r2; an r1 endpoint takes them back', async () => {
    await applyRule(
      ruleJson(
        'hello',
        'hello',
        { simple: 'RANDOM', localityLbSetting: { enabled: true, failover: [{ from: 'r1', to: 'r3' }] } },
        'v1beta1',
      ),
    );
    const away = await probe(lab, clientPod, 'count', vip['hello']!, 300);
    expect(away.failures).toEqual({});
    expect(away.answers).toEqual({ 'r3-z4': 300 });

    await lab.apply({ text: helloDeployment(NAME, 'r1-z1', 'hello', 'worker') }, { namespace: 'sample', timeoutMs: 30_000 });
    const back = await probe(lab, clientPod, 'count', vip['hello']!, 300);
    expect(back.failures).toEqual({});
    expect(back.answers).toEqual({ 'r1-z1': 300 });
  });

  it('distribute r1/z1/* -> 70/20/10 over r1/z1, r1/z2, r3/z4 after a rule change, in the running agents', async () => {
    await lab.apply({ text: helloDeployment(NAME, 'r1-z2', 'hello', 'worker2') }, { namespace: 'sample', timeoutMs: 30_000 });
    await applyRule(
      ruleJson('hello', 'hello', {
        localityLbSetting: {
          enabled: true,
          distribute: [{ from: 'r1/z1/*', to: { 'r1/z1/*': 70, 'r1/z2/*': 20, 'r3/z4/*': 10 } }],
        },
      }),
    );
    const { answers, failures, ms } = await probe(lab, clientPod, 'count', vip['hello']!, 1500);
    console.log(`distribute 70/20/10 over ${total(answers)} connects in ${ms} ms: ${JSON.stringify(answers)}`);
    expect(failures).toEqual({});
    // r2 is in no `to`: it gets nothing, though it has an endpoint.
    expectShares(answers, { 'r1-z1': 0.7, 'r1-z2': 0.2, 'r3-z4': 0.1 }, SIGMAS);
    // The change came through the API server alone: no agent was restarted for it.
    expect(await agentPidsNow()).toEqual(agentPids);
  });

  it("distribute: when r3/z4's endpoint goes, its share goes to the others in proportion (7:2)", async () => {
    await lab.delete('deployment', 'r3-z4', { namespace: 'sample', timeoutMs: 30_000 });
    const { answers, failures } = await probe(lab, clientPod, 'count', vip['hello']!, 1000);
    console.log(`distribute without r3/z4 over ${total(answers)} connects: ${JSON.stringify(answers)}`);
    expect(failures).toEqual({});
    expectShares(answers, { 'r1-z1': 7 / 9, 'r1-z2': 2 / 9 }, SIGMAS);
  });

  it('ROUND_ROBIN: 3,000 connects from one client give each of three endpoints exactly 1,000', async () => {
    // Only this client connects to rr, and the kernel's rotation is one atomic counter per
    // service, so the split is exact, not merely close.
    await applyRule(ruleJson('rr', 'rr', { simple: 'ROUND_ROBIN' }));
    const { answers, failures, ms } = await probe(lab, clientPod, 'count', vip['rr']!, 3000);
    console.log(`ROUND_ROBIN over 3000 connects in ${ms} ms: ${JSON.stringify(answers)}`);
    expect(failures).toEqual({});
    expect(answers).toEqual({ 'trio-a': 1000, 'trio-b': 1000, 'trio-c': 1000 });
  });

  it('LEAST_REQUEST: 60 connections held open end balanced across three endpoints (max - min <= 3)', async () => {
    await applyRule(ruleJson('lr', 'lr', { simple: 'LEAST_REQUEST' }));
    const { answers, failures } = await probe(lab, clientPod, 'hold', vip['lr']!, 60);
    console.log(`LEAST_REQUEST, 60 held connections: ${JSON.stringify(answers)}`);
    expect(failures).toEqual({});
    expect(Object.keys(answers).sort()).toEqual(['trio-a', 'trio-b', 'trio-c']);
    const counts = Object.values(answers);
    expect(total(answers)).toBe(60);
    // At random, 60 over three would spread by more than 3 in most runs.
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(3);
  });

  it('consistentHash useSourceIp (Maglev): each client pod keeps its endpoint; removing one of five moves only its clients', async () => {
    // Five endpoints of one tier (no locality on mg) and seven client pods on the r1/z1 worker.
    await lab.apply(
      {
        text: [
          serviceYaml('mg', 'mg'),
          ...MAGLEV_ENDPOINTS.map(([name, worker]) => helloDeployment(NAME, name, 'mg', worker)),
          clientYaml(NAME, 'mclient', MAGLEV_CLIENTS),
        ].join('---\n'),
      },
      { namespace: 'sample', timeoutMs: 60_000 },
    );
    const mgVip = (await kubectl(['get', 'service', 'mg', '-n', 'sample', '-o', 'jsonpath={.spec.clusterIP}'])).trim();
    await applyRule(ruleJson('mg', 'mg', { consistentHash: { useSourceIp: true } }));
    const clients = (await lab.pods({ namespace: 'sample', selector: 'app=mclient' })).map((p) => p.name);
    expect(clients).toHaveLength(MAGLEV_CLIENTS);
    const tableBefore = await maglevTableOf('app=mg');

    const was = await landings(clients, mgVip);
    console.log(`Maglev landings of ${clients.length} clients: ${was.join(',')}`);
    expect(new Set(was).size, 'clients spread over more than one endpoint').toBeGreaterThan(1);

    // The endpoint of the first client goes, so at least one client has to move.
    const gone = was[0]!;
    await lab.delete('deployment', gone, { namespace: 'sample', timeoutMs: 30_000 });
    const tableAfter = await maglevTableOf('app=mg');
    expect(new Set(tableAfter)).toEqual(new Set(MAGLEV_ENDPOINTS.map(([name]) => name).filter((n) => n !== gone)));
    const now = await landings(clients, mgVip);
    console.log(`after ${gone} went: ${now.join(',')}`);

    // A client not on the removed endpoint may move only where the table moved one of its old
    // endpoint's slots to its new one (Maglev does, for a few percent of them); none more.
    const keptSlots = tableBefore.filter((b) => b !== gone).length;
    const movedSlots = tableBefore.filter((b, slot) => b !== gone && tableAfter[slot] !== b).length;
    console.log(`the table moved ${movedSlots} of the ${keptSlots} slots not on ${gone}`);
    was.forEach((old, i) => {
      if (old === gone) {
        expect(now[i], `client ${clients[i]} was on the removed endpoint`).not.toBe(gone);
        return;
      }
      if (now[i] === old) return;
      const possible = tableBefore.some((b, slot) => b === old && tableAfter[slot] === now[i]);
      expect(possible, `client ${clients[i]} moved from ${old} to ${now[i]}`).toBe(true);
    });
    const movedOthers = was.filter((old, i) => old !== gone && now[i] !== old).length;
    // At a few percent of slots moved, more than two of the other (at most six) clients moving
    // is far below a chance in a thousand for a correct datapath.
    expect(movedSlots / keptSlots).toBeLessThan(0.1);
    expect(movedOthers).toBeLessThanOrEqual(2);
  });
});
