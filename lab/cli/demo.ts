/*
 * `nearbyctl demo` (what `make demo` runs): the seed's "Locality Load Balancing" experiment
 * (seeds 000/002) on a lab cluster, step by step. Each step prints the commands a user would type
 * and the helloworld answers, checks them against what the seed says should happen, and the run
 * ends with a summary table and lab down. The exit code says whether every step answered as
 * expected. On a real control plane (the default) the commands are the seed's own kubectl
 * commands, run against the lab's kubeconfig; with --files they are their `nearbyctl lab`
 * equivalents on the lab's own controllers. Only curl goes through `nearbyctl lab exec`: the
 * lab has no kubelet API for `kubectl exec`.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { labDown, labUp, PROJECT_ROOT, resolveControlPlaneBinaries, type LabClient } from '../index.js';

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

export interface DemoOptions {
  /** A real kube-apiserver etc. and the seed's kubectl commands; else the file-backed lab. */
  readonly controlPlane: boolean;
}

export async function runDemo(io: DemoIo, options: DemoOptions = { controlPlane: true }): Promise<number> {
  const started = performance.now();
  const say = (line = ''): void => io.out(line);
  const command = (text: string): void => say(`$ ${text}`);
  const outcomes: StepOutcome[] = [];
  let lab: LabClient | undefined;
  const kubectl = options.controlPlane ? resolveControlPlaneBinaries().kubectl : undefined;
  let kubeconfig: string | undefined;

  /** One of the seed's kubectl commands: run by kubectl on a real control plane, else by the lab's equivalent. */
  const kube = async (args: string[], viaLab: (l: LabClient) => Promise<unknown>): Promise<void> => {
    if (!kubectl || !kubeconfig) {
      command(`nearbyctl lab ${args.join(' ')}`);
      await viaLab(lab!);
      return;
    }
    command(`kubectl ${args.join(' ')}`);
    const run = spawnSync(kubectl, args, { cwd: PROJECT_ROOT, env: { ...process.env, KUBECONFIG: kubeconfig }, encoding: 'utf8' });
    for (const line of run.stdout.trim().split('\n').filter(Boolean)) say(`  ${line}`);
    if (run.status !== 0)
      throw new Error(`kubectl ${args.join(' ')} failed: ${run.stderr.trim() || run.error?.message || `exit ${run.status}`}`);
  };
  const podLookup = (): string =>
    `${kubectl ? 'kubectl' : 'nearbyctl lab'} get pod -n ${NS} -l app=sleep -o jsonpath='{.items[0].metadata.name}'`;

  const curl = async (): Promise<CurlRound> => {
    command(`nearbyctl lab exec -n ${NS} "$(${podLookup()})" -c sleep -- curl -sSL "${URL}"   # x${CURLS}`);
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
    command(`nearbyctl lab up ${shown('kind-cluster.yaml')}${kubectl ? ' --control-plane' : ''}`);
    const up = await labUp({ files: [sample('kind-cluster.yaml')], controlPlane: options.controlPlane, log: (line) => say(`  ${line}`) });
    lab = up.lab;
    kubeconfig = (await lab.status()).kubeconfig;
    if (kubectl) command(`export KUBECONFIG=${kubeconfig}`);
    for (const [node, zone, subzone] of localities) {
      const labels = {
        'topology.kubernetes.io/region': 'region',
        'topology.kubernetes.io/zone': zone,
        'topology.kubernetes.io/subzone': subzone,
      };
      for (const [key, value] of Object.entries(labels))
        await kube(['label', 'node', node, `${key}=${value}`], (l) => l.label(node, { [key]: value }, { wait: false }));
    }
    await kube(['create', 'namespace', NS], (l) =>
      l.apply({ text: `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${NS}\n` }, { wait: false }),
    );
    for (const file of [
      'helloworld-service.yaml',
      'helloworld-region.zone1.subzone1.yaml',
      'helloworld-region.zone1.subzone2.yaml',
      'helloworld-region.zone2.subzone3.yaml',
      'sleep.yaml',
    ]) {
      await kube(['apply', '-n', NS, '-f', shown(file)], (l) => l.apply({ files: [sample(file)] }, { namespace: NS, wait: false }));
    }
    await lab.wait();
    say();

    say("== Step 2: PreferClose keeps traffic in the client's own subzone");
    expect('2', 'PreferClose, an instance in every subzone', 'region.zone1.subzone1 only', await curl(), only('region.zone1.subzone1'));

    say('== Step 3: the local instance goes; traffic fails over to the same zone');
    await kube(['delete', 'deployment', '-n', NS, 'helloworld-region.zone1.subzone1'], (l) =>
      l.delete('deployment', 'helloworld-region.zone1.subzone1', { namespace: NS, wait: false }),
    );
    await lab.wait();
    expect('3', 'subzone1 deleted (failover)', 'region.zone1.subzone2 only', await curl(), only('region.zone1.subzone2'));

    say('== Step 4: worker 3 joins subzone2; answers alternate between the two subzone2 instances');
    for (const [key, value] of [
      ['topology.kubernetes.io/zone', 'zone1'],
      ['topology.kubernetes.io/subzone', 'subzone2'],
    ] as const) {
      await kube(['label', 'node', 'ambient-worker3', `${key}=${value}`, '--overwrite'], (l) =>
        l.label('ambient-worker3', { [key]: value }, { overwrite: true, wait: false }),
      );
    }
    await kube(['delete', 'deployment', '-n', NS, 'helloworld-region.zone2.subzone3'], (l) =>
      l.delete('deployment', 'helloworld-region.zone2.subzone3', { namespace: NS, wait: false }),
    );
    const worker3 = 'helloworld-region.zone1.subzone2-worker3.yaml';
    await kube(['apply', '-n', NS, '-f', shown(worker3)], (l) => l.apply({ files: [sample(worker3)] }, { namespace: NS, wait: false }));
    await lab.wait();
    const both = ['region.zone1.subzone2', 'region.zone1.subzone2-worker3'];
    expect('4', 'worker3 relabelled into subzone2', 'both subzone2 instances', await curl(), (r) => {
      const versions = r.results.map((x) => answerOf(x)?.version);
      return versions.every((v) => v !== undefined && both.includes(v)) && both.every((b) => versions.includes(b));
    });

    say("== Step 5: internalTrafficPolicy: Local: only this node's instance, and nothing when it goes");
    for (const file of ['helloworld-region.zone1.subzone1.yaml', 'helloworld-service-local.yaml']) {
      await kube(['apply', '-n', NS, '-f', shown(file)], (l) => l.apply({ files: [sample(file)] }, { namespace: NS, wait: false }));
    }
    await lab.wait();
    expect('5a', 'internalTrafficPolicy: Local', 'the local instance only', await curl(), only('region.zone1.subzone1'));
    await kube(['delete', 'deployment', '-n', NS, 'helloworld-region.zone1.subzone1'], (l) =>
      l.delete('deployment', 'helloworld-region.zone1.subzone1', { namespace: NS, wait: false }),
    );
    await lab.wait();
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
