/*
 * Seeds 000/002, "Locality Load Balancing" (what `make demo` and `make demo-cluster` run): three workers in
 * region/zone1/subzone1, region/zone1/subzone2 and region/zone2/subzone3, a helloworld on each,
 * sleep on worker 1, and a PreferClose Service; then failover within the zone, a relabelled
 * worker joining subzone2, and internalTrafficPolicy: Local. Under another lab name than the
 * seed's cluster (`demo --name`), the nodes are that lab's and the samples' node selectors are
 * rewritten to them, in copies below the lab's state dir.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DemoExperiment, DemoStep } from './demo-experiment.js';
import { answerOf, type CurlRound } from './demo-curl.js';
import { sample, shown, type DemoSession } from './demo-session.js';

const NS = 'sample';
const CURLS = 10;
const URL = 'http://helloworld:5000/hello';
/** The seed's `kind create cluster --name ambient`: the node names its samples select. */
const SEED_LAB = 'ambient';

const localities = (lab: string): ReadonlyArray<[string, string, string]> => [
  [`${lab}-worker`, 'zone1', 'subzone1'],
  [`${lab}-worker2`, 'zone1', 'subzone2'],
  [`${lab}-worker3`, 'zone2', 'subzone3'],
];

const only = (version: string) => (r: CurlRound) => r.results.every((x) => answerOf(x)?.version === version);
const curl = (s: DemoSession): Promise<CurlRound> => s.curl({ namespace: NS, url: URL, count: CURLS });

/** The sample's path as applied, and as shown: the seed's own file, or its copy for this lab's node names. */
function sampleFor(s: DemoSession, file: string): { path: string; shown: string } {
  if (s.lab.name === SEED_LAB) return { path: sample(file), shown: shown(file) };
  const dir = join(s.lab.paths.stateDir, 'samples');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, file);
  writeFileSync(path, readFileSync(sample(file), 'utf8').replaceAll(`${SEED_LAB}-`, `${s.lab.name}-`));
  return { path, shown: path };
}

async function applySample(s: DemoSession, file: string): Promise<void> {
  const { path, shown: as } = sampleFor(s, file);
  await s.kube(['apply', '-n', NS, '-f', as], (l) => l.apply({ files: [path] }, { namespace: NS, wait: false }));
}

async function deleteDeployment(s: DemoSession, name: string): Promise<void> {
  await s.kube(['delete', 'deployment', '-n', NS, name], (l) => l.delete('deployment', name, { namespace: NS, wait: false }));
}

const steps = (lab: string): readonly DemoStep[] => [
  {
    title: 'a kind-like cluster with three workers, helloworld on each, sleep on worker 1',
    async run(s) {
      await s.up([shown('kind-cluster.yaml')], lab === SEED_LAB ? undefined : lab);
      for (const [node, zone, subzone] of localities(lab)) {
        const labels = {
          'topology.kubernetes.io/region': 'region',
          'topology.kubernetes.io/zone': zone,
          'topology.kubernetes.io/subzone': subzone,
        };
        for (const [key, value] of Object.entries(labels))
          await s.kube(['label', 'node', node, `${key}=${value}`], (l) => l.label(node, { [key]: value }, { wait: false }));
      }
      await s.kube(['create', 'namespace', NS], (l) =>
        l.apply({ text: `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${NS}\n` }, { wait: false }),
      );
      for (const file of [
        'helloworld-service.yaml',
        'helloworld-region.zone1.subzone1.yaml',
        'helloworld-region.zone1.subzone2.yaml',
        'helloworld-region.zone2.subzone3.yaml',
        'sleep.yaml',
      ]) {
        await applySample(s, file);
      }
      await s.settle();
      s.say();
    },
  },
  {
    title: "PreferClose keeps traffic in the client's own subzone",
    async run(s) {
      s.expect(
        '2',
        'PreferClose, an instance in every subzone',
        'region.zone1.subzone1 only',
        await curl(s),
        only('region.zone1.subzone1'),
      );
    },
  },
  {
    title: 'the local instance goes; traffic fails over to the same zone',
    async run(s) {
      await deleteDeployment(s, 'helloworld-region.zone1.subzone1');
      await s.settle();
      s.expect('3', 'subzone1 deleted (failover)', 'region.zone1.subzone2 only', await curl(s), only('region.zone1.subzone2'));
    },
  },
  {
    title: 'worker 3 joins subzone2; answers alternate between the two subzone2 instances',
    async run(s) {
      for (const [key, value] of [
        ['topology.kubernetes.io/zone', 'zone1'],
        ['topology.kubernetes.io/subzone', 'subzone2'],
      ] as const) {
        await s.kube(['label', 'node', `${lab}-worker3`, `${key}=${value}`, '--overwrite'], (l) =>
          l.label(`${lab}-worker3`, { [key]: value }, { overwrite: true, wait: false }),
        );
      }
      await deleteDeployment(s, 'helloworld-region.zone2.subzone3');
      await applySample(s, 'helloworld-region.zone1.subzone2-worker3.yaml');
      await s.settle();
      const both = ['region.zone1.subzone2', 'region.zone1.subzone2-worker3'];
      s.expect('4', 'worker3 relabelled into subzone2', 'both subzone2 instances', await curl(s), (r) => {
        const versions = r.results.map((x) => answerOf(x)?.version);
        return versions.every((v) => v !== undefined && both.includes(v)) && both.every((b) => versions.includes(b));
      });
    },
  },
  {
    title: "internalTrafficPolicy: Local: only this node's instance, and nothing when it goes",
    async run(s) {
      for (const file of ['helloworld-region.zone1.subzone1.yaml', 'helloworld-service-local.yaml']) await applySample(s, file);
      await s.settle();
      s.expect('5a', 'internalTrafficPolicy: Local', 'the local instance only', await curl(s), only('region.zone1.subzone1'));
      await deleteDeployment(s, 'helloworld-region.zone1.subzone1');
      await s.settle();
      s.expect('5b', 'Local, the local instance deleted', 'connection refused at once', await curl(s), (r) =>
        r.results.every((x) => x.refused && x.ms < 1000),
      );
    },
  },
];

export const SEED_000: DemoExperiment = {
  id: '000',
  title: 'seeds 000/002, "Locality Load Balancing": PreferClose, failover, relabelling, internalTrafficPolicy: Local',
  controlPlaneOnly: false,
  realNodes: true,
  steps: (labName) => steps(labName ?? SEED_LAB),
};
