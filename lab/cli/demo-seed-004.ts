/*
 * Seed 004, locality-weighted distribution across two kind clusters, replayed with nearby on two
 * real control planes in the lab (docs/multi-cluster-demo.md): cluster1 (control plane + worker)
 * and cluster2 (control plane + two workers), linked by remote secrets both ways, nodes labelled
 * region1/zone1, region1/zone2 (cluster1), region2/zone3, region3/zone4 (cluster2), a helloworld
 * per locality, sleep in region1/zone1, then the seed's `distribute` rule verbatim: 70/20/10 to
 * region1/zone1, region1/zone2 and region3/zone4 in cluster2, which the seed's author never saw
 * answer. Then the region1/zone1 helloworld is deleted and its share goes to the others in
 * proportion (docs/semantics.md).
 */
import { PROGRAMS } from '../programs.js';
import type { DemoExperiment, DemoStep } from './demo-experiment.js';
import type { DemoSession } from './demo-session.js';
import { formatShares, sharesWithin, type Shares } from './demo-shares.js';

export const SEED_004_DIR = 'deploy/samples/seed-004';
export const SEED_004_NS = 'sample';
/** The seed's cluster names, as its `kind create cluster --name` gives them. */
export const SEED_004_CLUSTERS = ['cluster1', 'cluster2'] as const;
export const SEED_004_LOCALITIES = ['region1.zone1', 'region1.zone2', 'region2.zone3', 'region3.zone4'] as const;
export type Seed004Locality = (typeof SEED_004_LOCALITIES)[number];
/** Connects per measured round: enough that 4-sigma binomial bounds exclude an even split. */
export const SEED_004_CONNECTS = 1200;
/** Standard deviations each way of the binomial bounds a share must fall within. */
export const SEED_004_SIGMAS = 4;

const file = (name: string): string => `${SEED_004_DIR}/${name}`;
const REGION = 'topology.kubernetes.io/region';
const ZONE = 'topology.kubernetes.io/zone';

/** Where the seed puts each locality: which cluster (by index) and which node of it. */
const PLACES: Readonly<Record<Seed004Locality, { cluster: 0 | 1; node: string }>> = {
  'region1.zone1': { cluster: 0, node: 'control-plane' },
  'region1.zone2': { cluster: 0, node: 'worker' },
  'region2.zone3': { cluster: 1, node: 'control-plane' },
  'region3.zone4': { cluster: 1, node: 'worker' },
};

/** What the steps share: the clusters' names (the seed's, or prefixed for a test run) and the client pod. */
export class Seed004 {
  readonly clusters: readonly [string, string];
  client = '';

  constructor(prefix: string | undefined) {
    this.clusters = prefix ? [`${prefix}-1`, `${prefix}-2`] : [...SEED_004_CLUSTERS];
  }

  context(i: 0 | 1): string {
    return `--context=kind-${this.clusters[i]}`;
  }

  nodeOf(locality: Seed004Locality): string {
    const place = PLACES[locality];
    return `${this.clusters[place.cluster]}-${place.node}`;
  }

  /** `count` connects from sleep to helloworld's ClusterIP in cluster1, in one process; the answers by version. */
  async measure(s: DemoSession, count: number): Promise<Shares> {
    const lab = s.cluster(this.clusters[0]);
    const vip = (await lab.status()).services.find((x) => x.namespace === SEED_004_NS && x.name === 'helloworld')?.clusterIP;
    if (!vip) throw new Error(`cluster ${this.clusters[0]} has no helloworld Service`);
    s.command(`nearbyctl lab exec -n ${SEED_004_NS} ${this.client} -- connect-probe count helloworld.sample 5000 ${count}   # ${vip}`);
    const r = await lab.exec(this.client, [process.execPath, PROGRAMS.connectProbe, 'count', vip, '5000', String(count)], {
      namespace: SEED_004_NS,
      timeoutMs: 60_000 + count * 20,
    });
    if (r.code !== 0) throw new Error(`connect-probe exited ${r.code}: ${r.stderr}${r.stdout}`);
    const parsed = JSON.parse(r.stdout) as { answers: Record<string, number>; failures: Record<string, number> };
    const shares = { answers: parsed.answers, failures: parsed.failures };
    for (const line of formatShares(shares)) s.say(`  ${line}`);
    return shares;
  }
}

export function seed004Steps(state: Seed004): DemoStep[] {
  const [c1, c2] = state.clusters;
  return [
    {
      title:
        'two kind clusters, cluster1 (control plane + worker) and cluster2 (control plane + two workers), each on its own control plane',
      async run(s) {
        const names = new Map([
          ['cluster1', c1],
          ['cluster2', c2],
        ]);
        await s.upClusters([file('kind-cluster1.yaml'), file('kind-cluster2.yaml')], names);
        const contexts = await s.kube(['config', 'get-contexts', '-o', 'name']);
        const wanted = [`kind-${c1}`, `kind-${c2}`];
        s.check(
          '1',
          'kubectl config get-contexts',
          wanted.join(', '),
          contexts.join(', '),
          wanted.every((c) => contexts.includes(c)),
        );
      },
    },
    {
      title: 'endpoint discovery both ways: each cluster gets a remote secret for the other',
      async run(s) {
        s.nearbyctlInto(['create-remote-secret', state.context(0), `--name=${c1}`], ['apply', '-f', '-', state.context(1)]);
        s.nearbyctlInto(['create-remote-secret', state.context(1), `--name=${c2}`], ['apply', '-f', '-', state.context(0)]);
        for (const i of [0, 1] as const)
          await s.kube(['get', 'secret', state.context(i), '-n', 'istio-system', '-l', 'istio/multiCluster=true']);
      },
    },
    {
      title: 'region and zone labels, as the seed sets them',
      async run(s) {
        await s.kube(['config', 'use-context', `kind-${c1}`]);
        for (const locality of ['region1.zone1', 'region1.zone2'] as const) {
          await s.kube(['label', 'nodes', state.nodeOf(locality), `${REGION}=${locality.split('.')[0]!}`]);
        }
        for (const locality of ['region1.zone1', 'region1.zone2'] as const) {
          await s.kube(['label', 'nodes', state.nodeOf(locality), `${ZONE}=${locality.split('.')[1]!}`]);
        }
        await s.kube(['config', 'use-context', `kind-${c2}`]);
        for (const locality of ['region2.zone3', 'region3.zone4'] as const) {
          await s.kube(['label', 'nodes', state.nodeOf(locality), `${REGION}=${locality.split('.')[0]!}`]);
        }
        for (const locality of ['region2.zone3', 'region3.zone4'] as const) {
          await s.kube(['label', 'nodes', state.nodeOf(locality), `${ZONE}=${locality.split('.')[1]!}`]);
        }
        await s.kube(['config', 'use-context', `kind-${c1}`]);
        for (const i of [0, 1] as const) await s.kube(['get', 'nodes', state.context(i), '-L', `${REGION},${ZONE}`]);
      },
    },
    {
      title: 'namespace sample in both clusters, helloworld per locality in its cluster, sleep in region1/zone1',
      async run(s) {
        // istioctl install brings the DestinationRule kind; the lab's clusters get it from deploy/crds/.
        await s.kube(['apply', state.context(0), '-f', 'deploy/crds/destinationrule.yaml']);
        for (const i of [0, 1] as const) await s.kube(['apply', state.context(i), '-f', file('namespace.yaml')]);
        for (const locality of SEED_004_LOCALITIES) {
          const i = PLACES[locality].cluster;
          await s.kube(['apply', state.context(i), '-n', SEED_004_NS, '-f', file(`helloworld-${locality}.yaml`)]);
        }
        await s.kube(['apply', state.context(0), '-f', file('sleep.yaml'), '-n', SEED_004_NS]);
        for (const name of state.clusters) await s.cluster(name).wait(120_000);
        for (const i of [0, 1] as const) await s.kube(['get', 'pod', state.context(i), '-n', SEED_004_NS, '-o', 'wide']);
        const placed: string[] = [];
        let allPlaced = true;
        for (const locality of SEED_004_LOCALITIES) {
          const lab = s.cluster(state.clusters[PLACES[locality].cluster]);
          const pods = await lab.pods({ namespace: SEED_004_NS, selector: `app=helloworld,version=${locality}` });
          const node = pods.find((p) => p.ready)?.node ?? 'none';
          placed.push(`${locality}@${node}`);
          allPlaced &&= node === state.nodeOf(locality);
        }
        const sleep = (await s.cluster(c1).pods({ namespace: SEED_004_NS, selector: 'app=sleep' })).find((p) => p.ready);
        state.client = sleep?.name ?? '';
        placed.push(`sleep@${sleep?.node ?? 'none'}`);
        allPlaced &&= sleep?.node === state.nodeOf('region1.zone1');
        const wanted = [...SEED_004_LOCALITIES.map((l) => `${l}@${state.nodeOf(l)}`), `sleep@${state.nodeOf('region1.zone1')}`];
        s.check('4', 'each workload in its locality', wanted.join(' '), placed.join(' '), allPlaced);
      },
    },
    {
      title: `the DestinationRule, verbatim: from region1/zone1, 70/20/10 to region1/zone1, region1/zone2, region3/zone4 (${SEED_004_CONNECTS} connects)`,
      async run(s) {
        await s.kube(['apply', state.context(0), '-n', SEED_004_NS, '-f', file('destination-rule.yaml')]);
        for (const name of state.clusters) await s.cluster(name).wait(60_000);
        const want = { 'region1.zone1': 0.7, 'region1.zone2': 0.2, 'region3.zone4': 0.1 };
        const shares = await state.measure(s, SEED_004_CONNECTS);
        const verdict = sharesWithin(shares, want, SEED_004_SIGMAS);
        s.check('5', '70/20/10 within binomial bounds, region3/zone4 in cluster2 reached', verdict.wanted, verdict.seen, verdict.passed);
      },
    },
    {
      title: "delete region1/zone1's helloworld: its share goes to region1/zone2 and region3/zone4 in proportion (2/3, 1/3)",
      async run(s) {
        await s.kube(['delete', 'deployment', 'helloworld-region1.zone1', state.context(0), '-n', SEED_004_NS]);
        for (const name of state.clusters) await s.cluster(name).wait(60_000);
        const want = { 'region1.zone2': 2 / 3, 'region3.zone4': 1 / 3 };
        const shares = await state.measure(s, SEED_004_CONNECTS);
        const verdict = sharesWithin(shares, want, SEED_004_SIGMAS);
        s.check('6', 'region1/zone1 gone: 20:10 between region1/zone2 and region3/zone4', verdict.wanted, verdict.seen, verdict.passed);
      },
    },
  ];
}

export const SEED_004: DemoExperiment = {
  id: '004',
  title: 'seed 004, two clusters: remote secrets, region/zone labels, the distribute rule 70/20/10 across clusters',
  controlPlaneOnly: true,
  steps: (labName) => seed004Steps(new Seed004(labName)),
};
