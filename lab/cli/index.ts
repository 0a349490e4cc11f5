/*
 * The lab's commands as a function of argv: `lab ...` and
 * `demo [--files|--real-nodes [--install kustomize|helm]] [--experiment ID] [--name LAB]`.
 * nearbyctl delegates both here when the lab is installed beside it (a checkout's build), and the
 * lab's own bin (bin/nearby-lab) goes through nearbyctl. Exit codes: 0 ok, 1 failed, 2 usage or
 * prerequisites.
 */
import { parseArgs } from 'node:util';
import { DEFAULT_EXPERIMENT, experimentOf, EXPERIMENTS, runDemo, type DemoOptions } from './demo.js';
import { INSTALLS, type Install } from './demo-session.js';
import type { CliIo } from './io.js';
import { runLab } from './lab.js';
import { isLabError } from '../errors.js';
import { labSource, type LabSource } from '../lab-source.js';

export type { CliIo } from './io.js';

/** `demo`'s flags as DemoOptions, or the usage error to print. */
export function parseDemoArgs(args: readonly string[]): DemoOptions | { error: string } {
  let values: { files?: boolean; experiment?: string; 'real-nodes'?: boolean; install?: string; name?: string };
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: {
        files: { type: 'boolean' },
        experiment: { type: 'string' },
        'real-nodes': { type: 'boolean' },
        install: { type: 'string' },
        name: { type: 'string' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    return { error: `nearbyctl demo: ${(error as Error).message}` };
  }
  const experiment = values.experiment ?? DEFAULT_EXPERIMENT;
  if (!experimentOf(experiment)) {
    return {
      error: `nearbyctl demo: --experiment ${JSON.stringify(experiment)}: expected one of ${EXPERIMENTS.map((e) => e.id).join(', ')}`,
    };
  }
  const install = values.install;
  if (install !== undefined && !(INSTALLS as readonly string[]).includes(install)) {
    return { error: `nearbyctl demo: --install ${JSON.stringify(install)}: expected one of ${INSTALLS.join(', ')}` };
  }
  if (install !== undefined && !values['real-nodes']) {
    return { error: 'nearbyctl demo: --install chooses how nearby is installed on real nodes: add --real-nodes' };
  }
  return {
    controlPlane: values.files !== true,
    experiment,
    ...(values['real-nodes'] ? { realNodes: true } : {}),
    ...(install !== undefined ? { install: install as Install } : {}),
    ...(values.name ? { labName: values.name } : {}),
  };
}

/** argv starts with the command word, `lab` or `demo`, as nearbyctl received it. */
export async function runLabCli(argv: readonly string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  if (command === 'demo') {
    const options = parseDemoArgs(rest);
    if ('error' in options) {
      io.err(options.error);
      return 2;
    }
    return runDemo(io, options);
  }
  if (command === 'lab') return runLab(rest, io);
  io.err(`nearby-lab: unknown command ${JSON.stringify(command ?? '')}; expected lab or demo`);
  return 2;
}

/** `plan|explain|maps --lab NAME`: the running lab's --state DIR or --kubeconfig FILE, or why there is none. */
export function labSourceOf(name: string): LabSource | { error: string } {
  try {
    return labSource(name);
  } catch (error) {
    if (isLabError(error)) return { error: error.message };
    throw error;
  }
}
