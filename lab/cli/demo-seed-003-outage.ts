/*
 * Seed 003's outage (docs/destination-rules-demo.md#the-outage): with the failover rule and its
 * outlierDetection (consecutive5xxErrors 1, interval 1s, baseEjectionTime 1m) in force, az01's
 * helloworld stops accepting connections while it stays Ready (`lab fault --refuse`, where the
 * seed drains its sidecar's listeners). The client in az01 fails at most the threshold number of
 * connects, the kernel ejects the endpoint, and every later connect goes to az02; once az01
 * listens again it answers again when the ejection time is up, not before.
 */
import { parseDurationMs } from '../../pkg/model/index.js';
import { READINESS_PROBE } from '../index.js';
import type { DemoStep } from './demo-experiment.js';
import { answerOf, type CurlResult, type CurlRound } from './demo-curl.js';
import { SEED_003_DIR, SEED_003_NS, SEED_003_URL, SEED_003_ZONES, type Seed003 } from './demo-seed-003.js';

/** The seed's rule: `consecutive5xxErrors: 1` (failed connects at L4) and `baseEjectionTime: 1m`. */
export const OUTAGE_THRESHOLD = 1;
export const SEED_003_EJECTION_TIME = '1m';
/** Curls while the pod refuses: the first fails, the other 19 show where the client went. */
export const OUTAGE_CURLS = 20;
/** Between two curls while waiting for az01 to come back: the resolution of "time to come back". */
const BACK_PAUSE_MS = 200;
/** Longer than the lab's prober takes to turn a pod unready (three failed probes a second apart). */
const READY_CHECK_AFTER_MS = (READINESS_PROBE.failureThreshold + 1) * READINESS_PROBE.readyPeriodMs;
/** How late the first az01 answer may come after the ejection time: the pause, a curl, and slack for a loaded machine. */
const BACK_SLACK_MS = 2_000;
const REGION = 'topology.kubernetes.io/region';

export interface OutageNumbers {
  /** Connects from az01's node that failed before az02 answered. */
  readonly failedConnects: number;
  /** From the first failed connect's start to the start of the first az02 answer. */
  readonly moveMs: number | undefined;
  /** Every connect after the first az02 answer was answered by az02. */
  readonly thenAz02Only: boolean;
  /** When the first failed connect started (epoch ms): the ejection, within a few ms. */
  readonly ejectedAt: number | undefined;
}

const by = (instance: string | undefined) => (r: CurlResult) => instance !== undefined && answerOf(r)?.instance === instance;

/** What the faulted round shows: failures first, then az02. */
export function outageNumbers(round: CurlRound, az02: string): OutageNumbers {
  const first = round.results.findIndex(by(az02));
  const before = first < 0 ? round.results : round.results.slice(0, first);
  const failed = before.filter((r) => r.code !== 0);
  return {
    failedConnects: failed.length,
    moveMs: first < 0 || !failed[0] ? undefined : round.results[first]!.at - failed[0].at,
    thenAz02Only: first >= 0 && failed.length === before.length && round.results.slice(first).every(by(az02)),
    ejectedAt: failed[0]?.at,
  };
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

export function seed003OutageSteps(state: Seed003, ejectionTime = SEED_003_EJECTION_TIME): DemoStep[] {
  const ejectionMs = parseDurationMs(ejectionTime);
  if (ejectionMs === undefined) throw new Error(`ejection time ${JSON.stringify(ejectionTime)} is not a duration like 5s or 1m`);
  const { workers, servers, clients } = state;
  let faultedAt = 0;
  let ejectedAt: number | undefined;
  let clearedAt = 0;
  return [
    {
      title:
        `the outage, as the seed sets it up: regions az01/az02 again and the failover rule with its outlierDetection ` +
        `(consecutive5xxErrors ${OUTAGE_THRESHOLD}, interval 1s, baseEjectionTime ${ejectionTime})`,
      async run(s) {
        for (const zone of SEED_003_ZONES) await s.kube(['label', 'node', workers[zone], `${REGION}=${zone}`, '--overwrite']);
        await s.kube(['apply', '-f', `${SEED_003_DIR}/destination-rule-failover.yaml`]);
        if (ejectionTime !== SEED_003_EJECTION_TIME) {
          const patch = { spec: { trafficPolicy: { outlierDetection: { baseEjectionTime: ejectionTime } } } };
          await s.kube(['patch', 'destinationrule', 'helloworld', '-n', SEED_003_NS, '--type', 'merge', '-p', JSON.stringify(patch)]);
        }
        await s.lab.wait();
        s.expect(
          '6',
          'failover with outlierDetection, client in az01',
          `az01 only (${servers.az01})`,
          await state.curl(s, 'az01'),
          state.answeredBy(['az01']),
        );
      },
    },
    {
      title: `az01's helloworld stops accepting connections and stays Ready (the seed drains its sidecar's listeners)`,
      async run(s) {
        await s.fault(SEED_003_NS, servers.az01!, 'refuse');
        faultedAt = Date.now();
        const round = await s.curl({
          namespace: SEED_003_NS,
          url: SEED_003_URL,
          count: OUTAGE_CURLS,
          pod: clients.az01!,
          lookup: `-l app=sleep --field-selector spec.nodeName=${workers.az01}`,
        });
        const n = outageNumbers(round, servers.az02!);
        ejectedAt = n.ejectedAt;
        s.say(
          `  failed connects before az02 answered: ${n.failedConnects}` +
            (n.moveMs === undefined ? '; az02 never answered' : `; moved to az02 ${n.moveMs} ms after the first failure`),
        );
        s.expect(
          '7a',
          'az01 refuses, client in az01',
          `1 to ${OUTAGE_THRESHOLD} failed connect(s), then az02 only (${servers.az02})`,
          round,
          () => n.failedConnects >= 1 && n.failedConnects <= OUTAGE_THRESHOLD && n.thenAz02Only,
        );
        // Readiness would have turned by now if the fault stopped the prober too.
        await sleep(faultedAt + READY_CHECK_AFTER_MS - Date.now());
        await s.kube(['get', 'pod', '-n', SEED_003_NS, '-l', 'app=helloworld', '-o', 'wide']);
        const az01 = (await s.lab.pods({ namespace: SEED_003_NS })).find((p) => p.name === servers.az01);
        s.check(
          '7b',
          `az01 refuses for ${seconds(Date.now() - faultedAt)}`,
          `${servers.az01} still Ready`,
          az01 ? `ready=${az01.ready}` : 'gone',
          az01?.ready === true,
        );
      },
    },
    {
      title: `az01 listens again: its endpoint stays ejected until baseEjectionTime (${ejectionTime}) is up, then answers again`,
      async run(s) {
        await s.fault(SEED_003_NS, servers.az01!, 'clear');
        clearedAt = Date.now();
        const round = await s.curlUntil(
          {
            namespace: SEED_003_NS,
            url: SEED_003_URL,
            count: 0,
            pod: clients.az01!,
            lookup: `-l app=sleep --field-selector spec.nodeName=${workers.az01}`,
          },
          { answer: 'version: az01,', withinMs: ejectionMs + BACK_SLACK_MS + 5_000, pauseMs: BACK_PAUSE_MS },
        );
        const last = round.results.at(-1);
        const backAt = last && by(servers.az01)(last) ? last.at : undefined;
        const backMs = backAt !== undefined && ejectedAt !== undefined ? backAt - ejectedAt : undefined;
        s.say(
          backMs === undefined
            ? '  az01 did not answer again'
            : `  az01 answered again ${seconds(backMs)} after the ejection (baseEjectionTime ${ejectionTime}), ` +
                `${seconds(backAt! - clearedAt)} after it listened again`,
        );
        s.expect(
          '8',
          'az01 listens again, client in az01',
          `az02 until ${ejectionTime} after the ejection, then az01`,
          round,
          (r) =>
            ejectedAt !== undefined &&
            clearedAt < ejectedAt + ejectionMs &&
            backMs !== undefined &&
            backMs >= ejectionMs &&
            backMs <= ejectionMs + BACK_SLACK_MS &&
            r.results.slice(0, -1).every(by(servers.az02)),
        );
      },
    },
  ];
}
