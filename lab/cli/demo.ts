/*
 * `nearbyctl demo` (what `make demo` with --files, `make demo-cluster`, `make demo-003` and `make demo-004` run): a seed's experiment on a lab
 * cluster, step by step. Each step prints the commands a user would type and the helloworld
 * answers, checks them against what the seed says should happen, and the run ends with a
 * summary table and lab down. The exit code says whether every step answered as expected. On a
 * real control plane (the default) the commands are the seed's own kubectl commands, run against
 * the lab's kubeconfig; with --files they are their `nearbyctl lab` equivalents on the lab's own
 * controllers (experiments that need kubectl refuse --files). Only curl goes through
 * `nearbyctl lab exec`: the lab has no kubelet API for `kubectl exec`.
 */
import type { DemoExperiment, DemoParams } from './demo-experiment.js';
import { SEED_000 } from './demo-seed-000.js';
import { SEED_003 } from './demo-seed-003-experiment.js';
import { SEED_004 } from './demo-seed-004.js';
import { DemoSession, type DemoIo, type Install } from './demo-session.js';
import { formatSummary, type StepOutcome } from './demo-summary.js';

export type { DemoIo } from './demo-session.js';

/** Every experiment --experiment can name; the first is the default. */
export const EXPERIMENTS: readonly DemoExperiment[] = [SEED_000, SEED_003, SEED_004];
export const DEFAULT_EXPERIMENT = EXPERIMENTS[0]!.id;

export interface DemoOptions extends DemoParams {
  /** A real kube-apiserver etc. and the seed's kubectl commands; else the file-backed lab. */
  readonly controlPlane: boolean;
  /** An id of EXPERIMENTS; default DEFAULT_EXPERIMENT. */
  readonly experiment?: string;
  /** The lab's name; default the experiment's own (the seed's cluster name). */
  readonly labName?: string;
  /** Real kubelets and containerd (`make demo-real-nodes`), nearby installed as deploy/'s DaemonSet. */
  readonly realNodes?: boolean;
  /** With realNodes: `kubectl apply -k` (the default) or `helm install`. */
  readonly install?: Install;
}

export interface DemoRun {
  readonly code: number;
  readonly outcomes: readonly StepOutcome[];
}

export function experimentOf(id: string): DemoExperiment | undefined {
  return EXPERIMENTS.find((e) => e.id === id);
}

/** Runs the experiment and says how each step went; `code` is 0 when every check passed. */
export async function runExperiment(io: DemoIo, options: DemoOptions): Promise<DemoRun> {
  const started = performance.now();
  const say = (line = ''): void => io.out(line);
  const experiment = experimentOf(options.experiment ?? DEFAULT_EXPERIMENT);
  if (!experiment) {
    say(`unknown experiment ${JSON.stringify(options.experiment)}; expected one of ${EXPERIMENTS.map((e) => e.id).join(', ')}`);
    return { code: 2, outcomes: [] };
  }
  if (experiment.controlPlaneOnly && !options.controlPlane) {
    say(`experiment ${experiment.id} runs the seed's kubectl commands, so it needs the real control plane: drop --files`);
    return { code: 2, outcomes: [] };
  }
  if (options.realNodes && !options.controlPlane) {
    say('--real-nodes runs real kubelets, which need the real control plane: drop --files');
    return { code: 2, outcomes: [] };
  }
  if (options.realNodes && !experiment.realNodes) {
    say(
      `experiment ${experiment.id} does not run on real nodes yet; --real-nodes runs ${EXPERIMENTS.filter((e) => e.realNodes)
        .map((e) => e.id)
        .join(', ')}`,
    );
    return { code: 2, outcomes: [] };
  }
  const session = new DemoSession(io, options.controlPlane, options.realNodes === true, options.install);
  say(`demo ${experiment.id}: ${experiment.title}`);
  say();
  try {
    for (const [i, step] of experiment.steps(options.labName, options).entries()) {
      say(`== Step ${i + 1}: ${step.title}`);
      await step.run(session);
    }
  } catch (error) {
    session.failed('the demo itself', error);
  } finally {
    await session.down();
  }

  say();
  for (const line of formatSummary(session.outcomes)) say(line);
  const passed = session.outcomes.length > 0 && session.outcomes.every((o) => o.passed);
  say();
  say(`${passed ? 'demo passed' : 'demo FAILED'} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return { code: passed ? 0 : 1, outcomes: session.outcomes };
}

export async function runDemo(io: DemoIo, options: DemoOptions = { controlPlane: true }): Promise<number> {
  return (await runExperiment(io, options)).code;
}
