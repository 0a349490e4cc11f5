/*
 * `nearbyctl demo` (what `make demo` runs): the seed's "Locality Load Balancing" experiment
 * (seeds 000/002) on a lab cluster, step by step. Each step prints the commands a user would type
 * (the lab's equivalents of the seed's kubectl commands) and the helloworld answers, checks them
 * against what the seed says should happen, and the run ends with a summary table and lab down.
 * The exit code says whether every step answered as expected.
 */
import { join } from 'node:path';
import { labDown, labUp, PROJECT_ROOT, type LabClient } from '../../pkg/lab/index.js';

import { answerOf, type CurlRound, curlRound, formatRound } from './demo-curl.js';
import { formatSummary, type StepOutcome } from './demo-summary.js';

const SAMPLES = join(PROJECT_ROOT, 'deploy/samples');
const NS = 'sample';
const CURLS = 10;
const URL = 'http://helloworld:5000/hello';

export interface DemoIo {
  out(line: string): void;
}

const sample = (file: string): string => join(SAMPLES, file);
const shown = (file: string): string => `deploy/samples/${file}`;

const localities: ReadonlyArray<[string, string, string]> = [
  ['ambient-worker', 'zone1', 'subzone1'],
  ['ambient-worker2', 'zone1', 'subzone2'],
  ['ambient-worker3', 'zone2', 'subzone3'],
];

export async function runDemo(io: DemoIo): Promise<number> {
  const started = performance.now();
  const say = (line = ''): void => io.out(line);
  const command = (text: string): void => say(`$ ${text}`);
  const outcomes: StepOutcome[] = [];
  let lab: LabClient | undefined;

  const curl = async (): Promise<CurlRound> => {
    command(`nearbyctl lab exec -n ${NS} "$(nearbyctl lab get pod -n ${NS} -l app=sleep -o jsonpath='{.items[0].metadata.name}')" -c sleep -- curl -sSL "${URL}"   # x${CURLS}`);
    const round = await curlRound(lab!, NS, URL, CURLS);
    for (const line of formatRound(round)) say(`  ${line}`);
    return round;
  };
  const expect = (step: string, what: string, wanted: string, round: CurlRound, ok: (r: CurlRound) => boolean): void => {
    const passed = ok(round);
    outcomes.push({ step, what, wanted, round, passed });
    say(passed ? `  -> as expected: ${wanted}` : `  -> NOT as expected (wanted ${wanted})`);
    say();
  };
  const only = (version: string) => (r: CurlRound) => r.results.every((x) => answerOf(x)?.version === version);

  try {
    say('== Step 1: a kind-like cluster with three workers, helloworld on each, sleep on worker 1');
    command(`nearbyctl lab up ${shown('kind-cluster.yaml')}`);
    const up = await labUp({ files: [sample('kind-cluster.yaml')], log: (line) => say(`  ${line}`) });
    lab = up.lab;
    for (const [node, zone, subzone] of localities) {
      command(`nearbyctl lab label node ${node} topology.kubernetes.io/region=region topology.kubernetes.io/zone=${zone} topology.kubernetes.io/subzone=${subzone}`);
      await lab.label(node, { 'topology.kubernetes.io/region': 'region', 'topology.kubernetes.io/zone': zone, 'topology.kubernetes.io/subzone': subzone }, { wait: false });
    }
    command(`nearbyctl lab apply -f - <<< 'apiVersion: v1, kind: Namespace, metadata: {name: ${NS}}'`);
    await lab.apply({ text: `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${NS}\n` }, { wait: false });
    for (const file of ['helloworld-service.yaml', 'helloworld-region.zone1.subzone1.yaml', 'helloworld-region.zone1.subzone2.yaml', 'helloworld-region.zone2.subzone3.yaml', 'sleep.yaml']) {
      command(`nearbyctl lab apply -n ${NS} -f ${shown(file)}`);
      await lab.apply({ files: [sample(file)] }, { namespace: NS, wait: false });
    }
    await lab.wait();
    say();

    say('== Step 2: PreferClose keeps traffic in the client\'s own subzone');
    expect('2', 'PreferClose, an instance in every subzone', 'region.zone1.subzone1 only', await curl(), only('region.zone1.subzone1'));

    say('== Step 3: the local instance goes; traffic fails over to the same zone');
    command(`nearbyctl lab delete deployment -n ${NS} helloworld-region.zone1.subzone1`);
    await lab.delete('deployment', 'helloworld-region.zone1.subzone1', { namespace: NS });
    expect('3', 'subzone1 deleted (failover)', 'region.zone1.subzone2 only', await curl(), only('region.zone1.subzone2'));

    say('== Step 4: worker 3 joins subzone2; answers alternate between the two subzone2 instances');
    command('nearbyctl lab label node ambient-worker3 topology.kubernetes.io/zone=zone1 --overwrite');
    command('nearbyctl lab label node ambient-worker3 topology.kubernetes.io/subzone=subzone2 --overwrite');
    await lab.label('ambient-worker3', { 'topology.kubernetes.io/zone': 'zone1', 'topology.kubernetes.io/subzone': 'subzone2' }, { overwrite: true, wait: false });
    command(`nearbyctl lab delete deployment -n ${NS} helloworld-region.zone2.subzone3`);
    await lab.delete('deployment', 'helloworld-region.zone2.subzone3', { namespace: NS, wait: false });
    command(`nearbyctl lab apply -n ${NS} -f ${shown('helloworld-region.zone1.subzone2-worker3.yaml')}`);
    await lab.apply({ files: [sample('helloworld-region.zone1.subzone2-worker3.yaml')] }, { namespace: NS });
    const both = ['region.zone1.subzone2', 'region.zone1.subzone2-worker3'];
    expect('4', 'worker3 relabelled into subzone2', 'both subzone2 instances', await curl(), (r) => {
      const versions = r.results.map((x) => answerOf(x)?.version);
      return versions.every((v) => v !== undefined && both.includes(v)) && both.every((b) => versions.includes(b));
    });

    say('== Step 5: internalTrafficPolicy: Local: only this node\'s instance, and nothing when it goes');
    command(`nearbyctl lab apply -n ${NS} -f ${shown('helloworld-region.zone1.subzone1.yaml')}`);
    await lab.apply({ files: [sample('helloworld-region.zone1.subzone1.yaml')] }, { namespace: NS, wait: false });
    command(`nearbyctl lab apply -n ${NS} -f ${shown('helloworld-service-local.yaml')}`);
    await lab.apply({ files: [sample('helloworld-service-local.yaml')] }, { namespace: NS });
    expect('5a', 'internalTrafficPolicy: Local', 'the local instance only', await curl(), only('region.zone1.subzone1'));
    command(`nearbyctl lab delete deployment -n ${NS} helloworld-region.zone1.subzone1`);
    await lab.delete('deployment', 'helloworld-region.zone1.subzone1', { namespace: NS });
    expect('5b', 'Local, the local instance deleted', 'connection refused at once', await curl(), (r) =>
      r.results.every((x) => x.refused && x.ms < 1000),
    );
  } catch (error) {
    say(`demo failed: ${(error as Error).message}`);
    outcomes.push({ step: '!', what: 'the demo itself', wanted: 'no error', round: undefined, passed: false });
  } finally {
    if (lab) {
      command('nearbyctl lab down');
      try {
        await labDown({ name: lab.name });
      } catch (error) {
        say(`lab down failed: ${(error as Error).message}`);
        outcomes.push({ step: '!', what: 'lab down', wanted: 'nothing left behind', round: undefined, passed: false });
      }
    }
  }

  say();
  for (const line of formatSummary(outcomes)) say(line);
  const passed = outcomes.length > 0 && outcomes.every((o) => o.passed);
  say();
  say(`${passed ? 'demo passed' : 'demo FAILED'} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return passed ? 0 : 1;
}
