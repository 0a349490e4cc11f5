/*
 * `nearbyctl lab ...` and `nearbyctl demo` belong to the lab, a package of its own (lab/) that
 * the product never imports: nearbyctl loads it at run time from beside its own build, where a
 * checkout's `make build` puts it. The agent image ships the product build only, so there the
 * two commands say where to get the lab instead.
 */
import { STARTUP_EXIT_CODE, StartupError } from '../startup-error.js';
import type { CtlIo } from './run.js';

/** What the lab's CLI module offers (lab/cli/index.ts). */
interface LabCli {
  runLabCli(argv: readonly string[], io: CtlIo): Promise<number>;
  labSourceOf(name: string): { state: string } | { kubeconfig: string } | { error: string };
}

/** Relative to this module in the sources and in the build alike; a variable, so tsc never compiles the lab into the product. */
const LAB_CLI = '../../lab/cli/index.js';

export const LAB_COMMANDS: readonly string[] = ['lab', 'demo'];

export const LAB_NOT_INSTALLED =
  'the lab (`nearbyctl lab`, `nearbyctl demo`) is not part of this installation; ' +
  'it comes with a checkout of the nearby repository: run `make build` there, then its nearbyctl';

function isLabMissing(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown };
  return e.code === 'ERR_MODULE_NOT_FOUND' && typeof e.message === 'string' && e.message.includes('/lab/cli/index.');
}

async function loadLab(): Promise<LabCli | undefined> {
  try {
    return (await import(LAB_CLI)) as LabCli;
  } catch (error) {
    if (isLabMissing(error)) return undefined;
    throw error;
  }
}

/** argv starts with `lab` or `demo`. */
export async function runLabCommand(argv: readonly string[], io: CtlIo): Promise<number> {
  const lab = await loadLab();
  if (!lab) {
    io.err(`nearbyctl: ${LAB_NOT_INSTALLED}`);
    return STARTUP_EXIT_CODE;
  }
  return lab.runLabCli(argv, io);
}

/** `--lab NAME`: where a running lab's cluster is read, as --state DIR or --kubeconfig FILE. */
export async function labClusterSource(name: string): Promise<{ state: string } | { kubeconfig: string }> {
  const lab = await loadLab();
  if (!lab) throw new StartupError('usage', `--lab: ${LAB_NOT_INSTALLED}`);
  const source = lab.labSourceOf(name);
  if ('error' in source) throw new StartupError('source', `--lab ${name}: ${source.error}`);
  return source;
}
