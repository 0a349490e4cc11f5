// Seed 004 replayed by the demo's own experiment (`make demo-004`) on two real control planes:
// the experiment's checks, read back as step outcomes, and the measured shares judged again here
// against binomial bounds: 70/20/10 from region1/zone1 with region3/zone4 in cluster2 reached,
// then, region1/zone1's helloworld deleted, 2/3 and 1/3 between the other two.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runExperiment, type DemoRun } from '../../lab/cli/demo.js';
import { SEED_004_CONNECTS, SEED_004_SIGMAS } from '../../lab/cli/demo-seed-004.js';
import { binomialBounds } from '../../lab/cli/demo-shares.js';
import { assertLabPrereqs } from './lab-fixture.js';

const NAME = `e2e-s004-${process.pid}`;
let run: DemoRun | undefined;
const lines: string[] = [];

/** The step's answers by version, read back from what it saw ("region1.zone1 825, ..."). */
function answers(step: string): Record<string, number> {
  const outcome = run!.outcomes.find((o) => o.step === step);
  expect(outcome?.seen, `step ${step} ran; output:\n${lines.join('\n')}`).toBeDefined();
  const counts: Record<string, number> = {};
  for (const part of outcome!.seen!.split(', ')) {
    const [version, count] = part.split(' ');
    counts[version!] = Number(count);
  }
  return counts;
}

function expectShares(counts: Record<string, number>, want: Record<string, number>): void {
  expect(Object.keys(counts).sort()).toEqual(Object.keys(want).sort());
  const n = Object.values(counts).reduce((a, b) => a + b, 0);
  expect(n).toBe(SEED_004_CONNECTS);
  for (const [version, p] of Object.entries(want)) {
    const [low, high] = binomialBounds(n, p, SEED_004_SIGMAS);
    expect(counts[version], `${version}: ${counts[version]} of ${n}, want ${low}..${high}`).toBeGreaterThanOrEqual(low);
    expect(counts[version], `${version}: ${counts[version]} of ${n}, want ${low}..${high}`).toBeLessThanOrEqual(high);
  }
}

beforeAll(async () => {
  await assertLabPrereqs();
  run = await runExperiment({ out: (line) => lines.push(line) }, { controlPlane: true, experiment: '004', labName: NAME });
}, 240_000);

afterAll(() => {
  if (run?.code !== 0) console.log(lines.join('\n'));
});

describe('seed 004 on two real control planes (make demo-004)', () => {
  it('every step of the experiment passed and the lab went down', () => {
    expect(run!.outcomes.filter((o) => !o.passed).map((o) => `${o.step} ${o.what}`)).toEqual([]);
    expect(run!.code).toBe(0);
  });

  it('splits 70/20/10 from region1/zone1, region3/zone4 in cluster2 reached', () => {
    const counts = answers('5');
    expectShares(counts, { 'region1.zone1': 0.7, 'region1.zone2': 0.2, 'region3.zone4': 0.1 });
    expect(counts['region3.zone4']).toBeGreaterThan(0);
  });

  it("gives region1/zone1's share, once it is deleted, to region1/zone2 and region3/zone4 in proportion", () => {
    expectShares(answers('6'), { 'region1.zone2': 2 / 3, 'region3.zone4': 1 / 3 });
  });
});
