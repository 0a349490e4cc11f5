// Seed 003 replayed by the demo's own experiment (`make demo-003`) on the real control plane:
// the checks are the experiment's, read back as step outcomes and asserted here by which pod
// answered each curl. Region az01/az02 as the seed's kind config writes it, then region sg as its
// later output shows, so both readings of the distribute rule run (docs/destination-rules-demo.md).
// Then the seed's outage with a short ejection time: az01's helloworld refuses while Ready, the
// client in az01 fails at most the threshold number of connects before az02 answers, and az01
// answers again once it listens and the ejection time is up.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runExperiment, type DemoRun } from '../../lab/cli/demo.js';
import { answerOf, type CurlResult } from '../../lab/cli/demo-curl.js';
import { OUTAGE_CURLS, OUTAGE_THRESHOLD } from '../../lab/cli/demo-seed-003-outage.js';
import { SEED_003_CURLS } from '../../lab/cli/demo-seed-003.js';
import { assertLabPrereqs } from './lab-fixture.js';

const NAME = `e2e-seed003-${process.pid}`;
/** Short, so the test waits seconds, not the seed's minute; longer than the Ready check after the fault (4 s). */
const EJECTION_TIME = '6s';
const EJECTION_MS = 6_000;
let run: DemoRun | undefined;
const lines: string[] = [];

/** Instance (pod name) -> how many of the step's curls it answered. */
function answers(step: string): Record<string, number> {
  const outcome = run!.outcomes.find((o) => o.step === step);
  expect(outcome, `step ${step} ran; output:\n${lines.join('\n')}`).toBeDefined();
  const counts: Record<string, number> = {};
  for (const r of outcome!.round!.results) {
    const a = answerOf(r);
    const key = a ? a.instance : `exit ${r.code}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(SEED_003_CURLS);
  return counts;
}

/** The helloworld pods of the two zones, named as the Deployments name them. */
const AZ01 = 'helloworld-az01-';
const AZ02 = 'helloworld-az02-';
const only = (counts: Record<string, number>, pod: string): void => {
  expect(
    Object.keys(counts).every((k) => k.startsWith(pod)),
    JSON.stringify(counts),
  ).toBe(true);
  expect(Object.keys(counts)).toHaveLength(1);
};
const both = (counts: Record<string, number>): void => {
  const pods = Object.keys(counts);
  expect(pods, JSON.stringify(counts)).toHaveLength(2);
  expect(pods.filter((p) => p.startsWith(AZ01))).toHaveLength(1);
  expect(pods.filter((p) => p.startsWith(AZ02))).toHaveLength(1);
};

beforeAll(async () => {
  await assertLabPrereqs();
  run = await runExperiment(
    { out: (line) => lines.push(line) },
    { controlPlane: true, experiment: '003', labName: NAME, ejectionTime: EJECTION_TIME },
  );
}, 240_000);

afterAll(() => {
  if (run?.code !== 0) console.log(lines.join('\n'));
  // The outage's numbers, for the record: failed connects, time to move, time to come back.
  else console.log(lines.filter((l) => /failed connects|answered again|^== Step [678]|^demo passed/.test(l)).join('\n'));
});

describe('seed 003 on a real control plane (make demo-003)', () => {
  it('every step of the experiment passed and the lab went down', () => {
    expect(run!.outcomes.filter((o) => !o.passed).map((o) => `${o.step} ${o.what}`)).toEqual([]);
    expect(run!.code).toBe(0);
  });

  it("gives pods and Services addresses from the kind config's podSubnet and serviceSubnet", () => {
    const step = run!.outcomes.find((o) => o.step === '1');
    expect(step?.passed, step?.seen).toBe(true);
    const seen = step!.seen!.split(' ');
    expect(seen.filter((ip) => ip.startsWith('10.10.'))).toHaveLength(4);
    expect(seen.filter((ip) => ip.startsWith('10.11.'))).toHaveLength(2);
  });

  it('before any rule, both zones answer each client', () => {
    both(answers('2a'));
    both(answers('2b'));
  });

  it('the failover rule keeps the client in az01 on az01 (and the one in az02 on az02)', () => {
    only(answers('3a'), AZ01);
    only(answers('3b'), AZ02);
  });

  it('the distribute rule with region az01/az02: no from matches, every endpoint answers', () => {
    both(answers('4a'));
    both(answers('4b'));
  });

  it('the distribute rule with region sg: each client stays in its zone', () => {
    only(answers('5a'), AZ01);
    only(answers('5b'), AZ02);
  });

  describe('the outage, replayed (ejection time ' + EJECTION_TIME + ')', () => {
    const results = (step: string): readonly CurlResult[] => {
      const outcome = run!.outcomes.find((o) => o.step === step);
      expect(outcome?.round, `step ${step} ran; output:\n${lines.join('\n')}`).toBeDefined();
      return outcome!.round!.results;
    };
    const pod = (r: CurlResult): string => answerOf(r)?.instance ?? `exit ${r.code}`;

    it('with the rule in force and nothing faulted, the client in az01 gets az01', () => {
      only(answers('6'), AZ01);
    });

    it('the client in az01 fails at most the threshold number of connects, refused, then every connect is answered by az02', () => {
      const round = results('7a');
      expect(round).toHaveLength(OUTAGE_CURLS);
      const firstAz02 = round.findIndex((r) => pod(r).startsWith(AZ02));
      expect(firstAz02, round.map(pod).join(' ')).toBeGreaterThanOrEqual(1);
      expect(firstAz02).toBeLessThanOrEqual(OUTAGE_THRESHOLD);
      expect(round.slice(0, firstAz02).every((r) => r.refused)).toBe(true);
      expect(
        round
          .slice(firstAz02)
          .map(pod)
          .every((p) => p.startsWith(AZ02)),
        round.map(pod).join(' '),
      ).toBe(true);
    });

    it('the refusing pod stays Ready (readiness does not see the fault)', () => {
      const step = run!.outcomes.find((o) => o.step === '7b');
      expect(step?.seen).toBe('ready=true');
    });

    it('once az01 listens again, az02 answers until the ejection time is up, then az01', () => {
      const faulted = results('7a');
      const ejectedAt = faulted.find((r) => r.code !== 0)!.at;
      const back = results('8');
      const last = back.at(-1)!;
      expect(pod(last).startsWith(AZ01), back.map(pod).join(' ')).toBe(true);
      expect(back.slice(0, -1).length).toBeGreaterThan(0);
      expect(
        back.slice(0, -1).every((r) => pod(r).startsWith(AZ02)),
        back.map(pod).join(' '),
      ).toBe(true);
      expect(last.at - ejectedAt).toBeGreaterThanOrEqual(EJECTION_MS);
      expect(last.at - ejectedAt).toBeLessThan(EJECTION_MS + 2_000);
    });
  });
});
