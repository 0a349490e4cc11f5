/*
 * Seed 003, multi-AZ locality with Istio on kind, replayed with nearby on the lab's real control
 * plane (docs/destination-rules-demo.md): the seed's kind config labels its two workers region
 * and zone az01 and az02; helloworld runs in each zone and a sleep client in each. Before any
 * rule both zones answer; the `failover` rule keeps each client in its own zone; the
 * `distribute` rule, which names region `sg`, matches no client while the regions are az01/az02
 * (every endpoint answers), and keeps each client in its zone once the workers carry region `sg`,
 * as the seed's later `kubectl get node --show-labels` shows them.
 *
 * The steps share one Seed003 state; seed003Steps() returns them as a list, and the experiment
 * appends the seed's outage (demo-seed-003-outage.ts) to them.
 */
import type { DemoStep } from './demo-experiment.js';
import { answerOf, type CurlRound } from './demo-curl.js';
import type { DemoSession } from './demo-session.js';

export const SEED_003_DIR = 'deploy/samples/seed-003';
export const SEED_003_NS = 'sample';
/** The seed creates its cluster with `kind create cluster --name cluster1`. */
export const SEED_003_LAB = 'cluster1';
export const SEED_003_ZONES = ['az01', 'az02'] as const;
export type Seed003Zone = (typeof SEED_003_ZONES)[number];
export const SEED_003_URL = 'http://helloworld.sample:5000/hello';
const REGION = 'topology.kubernetes.io/region';
/** Enough that a client picking uniformly among two never sees only one (2 * 0.5^20, about 2e-6). */
export const SEED_003_CURLS = 20;

const file = (name: string): string => `${SEED_003_DIR}/${name}`;

/** What the steps learn and share: the lab's worker per zone, and the client and server pod in each. */
export class Seed003 {
  readonly workers: Readonly<Record<Seed003Zone, string>>;
  readonly clients: Partial<Record<Seed003Zone, string>> = {};
  readonly servers: Partial<Record<Seed003Zone, string>> = {};

  constructor(readonly labName: string) {
    this.workers = { az01: `${labName}-worker`, az02: `${labName}-worker2` };
  }

  /** The sleep and helloworld pod of each zone, read from the lab. */
  async findPods(s: DemoSession): Promise<void> {
    const pods = await s.lab.pods({ namespace: SEED_003_NS });
    for (const zone of SEED_003_ZONES) {
      const on = pods.filter((p) => p.node === this.workers[zone] && !p.terminating);
      const client = on.find((p) => p.labels['app'] === 'sleep');
      const server = on.find((p) => p.labels['app'] === 'helloworld' && p.labels['version'] === zone);
      if (!client || !server)
        throw new Error(
          `zone ${zone} (${this.workers[zone]}) needs a sleep and a helloworld pod; it has ${on.map((p) => p.name).join(', ') || 'none'}`,
        );
      this.clients[zone] = client.name;
      this.servers[zone] = server.name;
    }
  }

  /** Pod IPs come from the kind config's podSubnet 10.10.0.0/16, ClusterIPs from its serviceSubnet 10.11.0.0/16. */
  async checkAddresses(s: DemoSession): Promise<void> {
    const pods = await s.lab.pods({ namespace: SEED_003_NS });
    const services = (await s.lab.status()).services.filter((x) => x.namespace === SEED_003_NS);
    const seen = [...pods.map((p) => p.ip ?? '?'), ...services.map((x) => x.clusterIP)];
    const passed =
      pods.length > 0 &&
      services.length > 0 &&
      pods.every((p) => p.ip?.startsWith('10.10.') === true) &&
      services.every((x) => x.clusterIP.startsWith('10.11.'));
    s.check('1', "addresses from the kind config's subnets", 'pods in 10.10.0.0/16, Services in 10.11.0.0/16', seen.join(' '), passed);
  }

  curl(s: DemoSession, zone: Seed003Zone): Promise<CurlRound> {
    return s.curl({
      namespace: SEED_003_NS,
      url: SEED_003_URL,
      count: SEED_003_CURLS,
      pod: this.clients[zone]!,
      lookup: `-l app=sleep --field-selector spec.nodeName=${this.workers[zone]}`,
    });
  }

  /** Every curl answered, each by the helloworld pod of one of `zones`, and each of them answered. */
  answeredBy(zones: readonly Seed003Zone[]): (r: CurlRound) => boolean {
    const wanted = new Map(zones.map((z) => [this.servers[z], z]));
    return (r) => {
      const answers = r.results.map(answerOf);
      return (
        answers.every((a) => a !== undefined && wanted.get(a.instance) === a.version) &&
        zones.every((z) => answers.some((a) => a?.instance === this.servers[z]))
      );
    };
  }

  /** Checks a round from each zone's client, each answered by `expected(zone)`'s pods. */
  async checkEachClient(
    s: DemoSession,
    step: string,
    what: string,
    expected: (zone: Seed003Zone) => readonly Seed003Zone[],
  ): Promise<void> {
    for (const [i, zone] of SEED_003_ZONES.entries()) {
      const zones = expected(zone);
      const wanted = zones.length === 1 ? `${zones[0]} only (${this.servers[zones[0]!]})` : `both ${zones.join(' and ')}`;
      s.expect(`${step}${'ab'[i]}`, `${what}, client in ${zone}`, wanted, await this.curl(s, zone), this.answeredBy(zones));
    }
  }
}

async function cordon(s: DemoSession, verb: 'cordon' | 'uncordon', node: string): Promise<void> {
  await s.kube([verb, node]);
}

export function seed003Steps(state: Seed003): DemoStep[] {
  const { workers } = state;
  return [
    {
      title: "the seed's kind cluster (az01, az02 by kubeadm node-labels), the DestinationRule CRD, helloworld per zone, sleep per zone",
      async run(s) {
        await s.up([file('kind-cluster1.yaml'), 'deploy/crds/destinationrule.yaml'], state.labName);
        await s.kube(['apply', '-f', file('namespace.yaml')]);
        await s.kube(['apply', '-n', SEED_003_NS, '-f', file('helloworld.yaml')]);
        // The seed ends up with a sleep pod on each worker; cordoning the other worker for each
        // of the two makes the real scheduler place them so.
        await cordon(s, 'cordon', workers.az02);
        await s.kube(['apply', '-n', SEED_003_NS, '-f', file('sleep.yaml')]);
        await s.lab.wait();
        await cordon(s, 'uncordon', workers.az02);
        await cordon(s, 'cordon', workers.az01);
        await s.kube(['scale', 'deployment', 'sleep', '-n', SEED_003_NS, '--replicas=2']);
        await s.lab.wait();
        await cordon(s, 'uncordon', workers.az01);
        await s.kube(['get', 'pod', '-n', SEED_003_NS, '-o', 'wide']);
        await s.kube(['get', 'service', '-n', SEED_003_NS]);
        await state.findPods(s);
        await state.checkAddresses(s);
      },
    },
    {
      title: 'before any DestinationRule: every client reaches both zones',
      async run(s) {
        await state.checkEachClient(s, '2', 'no rule', () => SEED_003_ZONES);
      },
    },
    {
      title: 'the failover rule (v1beta1, verbatim): each client stays in its own zone',
      async run(s) {
        await s.kube(['apply', '-f', file('destination-rule-failover.yaml')]);
        await s.lab.wait();
        await state.checkEachClient(s, '3', 'failover az01 -> az02', (zone) => [zone]);
      },
    },
    {
      title: 'the distribute rule, verbatim, with region az01/az02 as the kind config labels it: no from matches, so no locality applies',
      async run(s) {
        await s.kube(['apply', '-n', SEED_003_NS, '-f', file('destination-rule-distribute.yaml')]);
        await s.lab.wait();
        await s.kube(['get', 'node', workers.az01, '--show-labels']);
        await state.checkEachClient(s, '4', 'distribute sg/*, region az0N', () => SEED_003_ZONES);
      },
    },
    {
      title: "region sg, as the seed's later kubectl get node --show-labels shows: distribute keeps each client in its zone",
      async run(s) {
        for (const zone of SEED_003_ZONES) await s.kube(['label', 'node', workers[zone], `${REGION}=sg`, '--overwrite']);
        await s.lab.wait();
        await s.kube(['get', 'node', workers.az01, '--show-labels']);
        await state.checkEachClient(s, '5', 'distribute sg/*, region sg', (zone) => [zone]);
      },
    },
  ];
}
