// The seed's five steps ("Locality Load Balancing", seeds 000/002; what `make demo` replays), as
// tests with statistical bounds instead of the exact sequences a reader sees: each step runs 60
// curls from the sleep pod and checks who answered, how often, and how a failure failed. The
// same suite runs on the file-backed lab (seed-steps.test.ts) and on the real control plane
// (seed-steps-control-plane.test.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LabClient, LabRecord } from '../../lab/index.js';
import { curlAttempts, downExpectingNothingLeft, outcomes, sample, seedLab, upLabWithSleep, type CurlAttempt } from './lab-fixture.js';

const HELLO = 'http://helloworld:5000/hello';
const CURLS = 60;
/*
 * Step 4's bound: with two endpoints picked uniformly at random, each one's count of 60 is
 * Binomial(60, 1/2). Requiring each to answer 12..48 times (20%..80%) fails a fair picker with
 * probability 2 * P(X <= 11) = 7.6e-7, so a failure means a skewed picker, not bad luck; a
 * picker that sticks to one endpoint (or to the first tier's first slot) fails it at once.
 */
const SHARE_MIN = 12;
const SHARE_MAX = 48;

export function seedStepsSuite(options: { controlPlane: boolean }): void {
  const NAME = `e2e-seed${options.controlPlane ? '-cp' : ''}-${process.pid}`;
  const WORKER = `${NAME}-worker`;
  const WORKER2 = `${NAME}-worker2`;
  const WORKER3 = `${NAME}-worker3`;
  let lab: LabClient;
  let record: LabRecord | undefined;
  let sleepPod: string;

  /** Version label -> pod name, for the versions that have a pod now. */
  async function podOfVersion(): Promise<Record<string, string>> {
    const pods = await lab.pods({ namespace: 'sample', selector: 'app=helloworld' });
    return Object.fromEntries(pods.map((p) => [p.labels['version'] ?? '?', p.name]));
  }

  /** Every answer names the pod that really runs that version (not a stale or foreign one). */
  function expectInstancesMatch(attempts: readonly CurlAttempt[], pods: Record<string, string>): void {
    const wrong = attempts.filter((a) => a.answer && pods[a.answer.version] !== a.answer.instance);
    expect(
      wrong.map((a) => a.body),
      `pods now: ${JSON.stringify(pods)}`,
    ).toEqual([]);
  }

  const curls = (count = CURLS): Promise<CurlAttempt[]> => curlAttempts(lab, sleepPod, HELLO, count);

  beforeAll(async () => {
    ({ lab, record, sleepPod } = await upLabWithSleep({
      text: seedLab(NAME),
      name: NAME,
      timeoutMs: 45_000,
      controlPlane: options.controlPlane,
    }));
  }, 60_000);

  afterAll(async () => {
    await downExpectingNothingLeft(NAME, lab, record);
  });

  describe(`the seed's five steps on a lab${options.controlPlane ? ' on a real control plane' : ''}`, () => {
    it('step 1: three labelled workers, one helloworld per worker, sleep on worker 1, a PreferClose Service', async () => {
      const status = await lab.status();
      const locality = (node: string) => {
        const labels = status.nodes.find((n) => n.name === node)?.labels ?? {};
        return ['region', 'zone', 'subzone'].map((k) => labels[`topology.kubernetes.io/${k}`]).join('/');
      };
      expect([WORKER, WORKER2, WORKER3].map(locality)).toEqual(['region/zone1/subzone1', 'region/zone1/subzone2', 'region/zone2/subzone3']);
      const pods = await lab.pods({ namespace: 'sample' });
      expect(pods.map((p) => [p.labels['version'] ?? p.labels['app'], p.node, p.ready])).toEqual([
        ['region.zone1.subzone1', WORKER, true],
        ['region.zone1.subzone2', WORKER2, true],
        ['region.zone2.subzone3', WORKER3, true],
        ['sleep', WORKER, true],
      ]);
      const service = status.services.find((s) => s.namespace === 'sample' && s.name === 'helloworld');
      expect(service).toMatchObject({ trafficDistribution: 'PreferClose', endpoints: { ready: 3, total: 3 } });
    });

    it("step 2: PreferClose sends every curl to the instance in the client's own subzone", async () => {
      const attempts = await curls();
      expect(outcomes(attempts)).toEqual({ 'region.zone1.subzone1': CURLS });
      expectInstancesMatch(attempts, await podOfVersion());
    });

    it('step 3: with the subzone1 Deployment deleted, every curl fails over to region.zone1.subzone2', async () => {
      await lab.delete('deployment', 'helloworld-region.zone1.subzone1', { namespace: 'sample' });
      const attempts = await curls();
      // Same zone beats another zone: subzone3 (zone2) must never answer while subzone2 is up.
      expect(outcomes(attempts)).toEqual({ 'region.zone1.subzone2': CURLS });
      expectInstancesMatch(attempts, await podOfVersion());
    });

    it('step 4: worker3 relabelled into zone1/subzone2 shares the traffic with worker2, within a binomial bound', async () => {
      await lab.label(
        WORKER3,
        { 'topology.kubernetes.io/zone': 'zone1', 'topology.kubernetes.io/subzone': 'subzone2' },
        { overwrite: true, wait: false },
      );
      await lab.delete('deployment', 'helloworld-region.zone2.subzone3', { namespace: 'sample', wait: false });
      await lab.apply({ text: sample('helloworld-region.zone1.subzone2-worker3.yaml', NAME) }, { namespace: 'sample' });
      const pods = await podOfVersion();
      expect(Object.keys(pods).sort()).toEqual(['region.zone1.subzone2', 'region.zone1.subzone2-worker3']);

      const attempts = await curls();
      const counts = outcomes(attempts);
      console.info(`step 4 split over ${CURLS} curls: ${JSON.stringify(counts)}`);
      expect(Object.keys(counts).sort(), JSON.stringify(counts)).toEqual(['region.zone1.subzone2', 'region.zone1.subzone2-worker3']);
      for (const version of Object.keys(counts)) {
        expect(counts[version], `${version} answered ${counts[version]} of ${CURLS}: ${JSON.stringify(counts)}`).toBeGreaterThanOrEqual(
          SHARE_MIN,
        );
        expect(counts[version], `${version} answered ${counts[version]} of ${CURLS}: ${JSON.stringify(counts)}`).toBeLessThanOrEqual(
          SHARE_MAX,
        );
      }
      expectInstancesMatch(attempts, pods);
    });

    it('step 5: internalTrafficPolicy: Local sends every curl to the local instance only', async () => {
      await lab.apply({ text: sample('helloworld-region.zone1.subzone1.yaml', NAME) }, { namespace: 'sample', wait: false });
      await lab.apply({ text: sample('helloworld-service-local.yaml', NAME) }, { namespace: 'sample' });
      const service = (await lab.status()).services.find((s) => s.namespace === 'sample' && s.name === 'helloworld');
      expect(service).toMatchObject({ internalTrafficPolicy: 'Local', endpoints: { ready: 3, total: 3 } });
      expect(service?.trafficDistribution).toBeUndefined();

      const attempts = await curls();
      expect(outcomes(attempts)).toEqual({ 'region.zone1.subzone1': CURLS });
      expectInstancesMatch(attempts, await podOfVersion());
    });

    it('step 5: Local with the local instance deleted refuses every curl at once, while other nodes still have ready endpoints', async () => {
      await lab.delete('deployment', 'helloworld-region.zone1.subzone1', { namespace: 'sample' });
      // The refusal must come from the policy, not from an empty Service: two endpoints stay ready elsewhere.
      const remote = await lab.pods({ namespace: 'sample', selector: 'app=helloworld' });
      expect(remote.map((p) => [p.node, p.ready])).toEqual([
        [WORKER2, true],
        [WORKER3, true],
      ]);

      const attempts = await curls();
      // Exit 7 with ECONNREFUSED from connect(): not 28 (a timeout), not 0 (another node's pod).
      expect(outcomes(attempts)).toEqual({ 'exit 7 (Connection refused)': CURLS });
      console.info(`step 5 refusals: slowest ${Math.max(...attempts.map((a) => a.ms))} ms`);
      const slow = attempts.filter((a) => a.ms >= 1000);
      expect(
        slow.map((a) => a.ms),
        'curls that took 1 s or more',
      ).toEqual([]);
    });
  });
}
