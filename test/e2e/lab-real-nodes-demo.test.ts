// Seeds 000/002's demo through nearby's own DaemonSet (`make demo-real-nodes` and
// `make demo-real-nodes-helm`, docs/real-nodes.md): real kubelets and containerd, the seed's
// helloworld and sleep from the real images, nearby installed with `kubectl apply -k` of the
// lab's kustomization, then again with `helm install` of deploy/helm/nearby, and no lab agents.
// The demo's own checks are read back per step, and the answering pods judged here: PreferClose
// keeps the sleep pod on its own subzone's helloworld pod, and once that one is deleted, on
// subzone2's.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answerOf } from '../../lab/cli/demo-curl.js';
import { runExperiment, type DemoRun } from '../../lab/cli/demo.js';
import type { Install } from '../../lab/cli/demo-session.js';
import { resolveHelm } from '../../lab/helm-binary.js';
import { listLabs, resolveNodeBinaries, resolvePauseImage } from '../../lab/index.js';
import { assertLabPrereqs } from './lab-fixture.js';

/** How each install shows in the demo's output. */
const INSTALL_LINE: Record<Install, RegExp> = {
  kustomize: /^\$ kubectl apply -k \S+\/nearby-kustomize$/,
  helm: /^\$ helm install nearby deploy\/helm\/nearby --namespace nearby-system --create-namespace .*hostPaths\.cgroupSubpath=\S+\/\$\(NODE_NAME\)$/,
};

describe.each<Install>(['kustomize', 'helm'])('seed 000 through nearby installed by %s on real nodes', (install) => {
  const NAME = `e2e-demo-${install === 'helm' ? 'h' : 'k'}-${process.pid}`;
  let run: DemoRun | undefined;
  const lines: string[] = [];

  /** Each answer of a step's curl round as [version, instance] (the pod that answered). */
  function answered(step: string): Array<[string, string]> {
    const outcome = run!.outcomes.find((o) => o.step === step);
    expect(outcome?.round, `step ${step} ran; output:\n${lines.join('\n')}`).toBeDefined();
    return outcome!.round!.results.map((r) => {
      const answer = answerOf(r);
      return answer ? [answer.version, answer.instance] : ['no answer', r.text];
    });
  }

  beforeAll(async () => {
    resolveNodeBinaries();
    resolvePauseImage();
    if (install === 'helm') resolveHelm();
    await assertLabPrereqs();
    run = await runExperiment({ out: (line) => lines.push(line) }, { controlPlane: true, realNodes: true, install, labName: NAME });
  }, 1_200_000);

  afterAll(() => {
    if (run?.code !== 0) console.log(lines.join('\n'));
    else console.log(lines.slice(lines.findIndex((l) => l.startsWith('step '))).join('\n'));
  });

  it(`installs nearby by ${install} and runs no lab agents`, () => {
    expect(lines).toContain(
      `$ nearbyctl lab up deploy/samples/kind-cluster.yaml --name ${NAME} --control-plane --real-nodes --agents daemonset`,
    );
    expect(lines.some((l) => INSTALL_LINE[install].test(l))).toBe(true);
    expect(lines).toContain('  daemon set "nearby-agent" successfully rolled out');
  });

  it("answers from the sleep pod's own subzone's pod only, then from subzone2's pod once it is deleted", () => {
    const step2 = answered('2');
    expect(new Set(step2.map(([version]) => version))).toEqual(new Set(['region.zone1.subzone1']));
    expect(new Set(step2.map(([, pod]) => pod)).size, 'one pod answered every curl').toBe(1);
    expect(step2[0]![1]).toMatch(/^helloworld-region\.zone1\.subzone1-[a-z0-9]+-[a-z0-9]+$/);
    const step3 = answered('3');
    expect(new Set(step3.map(([version]) => version))).toEqual(new Set(['region.zone1.subzone2']));
    expect(step3[0]![1]).toMatch(/^helloworld-region\.zone1\.subzone2-[a-z0-9]+-[a-z0-9]+$/);
  });

  it('every step of the demo passed and the lab went down', () => {
    expect(run!.outcomes.filter((o) => !o.passed).map((o) => `${o.step} ${o.what}`)).toEqual([]);
    expect(run!.code).toBe(0);
    expect(listLabs()).not.toContain(NAME);
  });
});
