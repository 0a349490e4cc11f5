/*
 * Finds the Prometheus and promtool of the release pinned in test/control-plane/prometheus.env.
 * `make prometheus` (test/control-plane/build-prometheus.sh) provides them, from PATH when both
 * report that release, else built into the cache, and records which in
 * ${NEARBY_CACHE:-$HOME/.cache/nearby}/prometheus/current.json. This only reads that record and
 * never builds: a build takes minutes and must not start as a side effect of a lab or a test.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { isExecutable } from '../control-plane/binaries.js';
import { LabError } from '../errors.js';
import { PROJECT_ROOT } from '../programs.js';

export const PROMETHEUS_VERSION_FILE = join(PROJECT_ROOT, 'test/control-plane/prometheus.env');

export interface PrometheusBinaries {
  /** The release both report, e.g. 3.16.0. */
  readonly version: string;
  readonly prometheus: string;
  readonly promtool: string;
}

export class PrometheusMissingError extends LabError {
  constructor(version: string, reason: string) {
    super('prereq', `Prometheus ${version} missing (${reason}). Run \`make prometheus\` to build it once into the cache.`);
    this.name = 'PrometheusMissingError';
  }
}

export function pinnedPrometheusVersion(file: string = PROMETHEUS_VERSION_FILE): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new LabError('prereq', `cannot read the pinned Prometheus release from ${file}`, { cause: error });
  }
  const match = /^\s*PROMETHEUS_VERSION=(3\.\d+\.\d+)\s*$/m.exec(text);
  if (!match) throw new LabError('invalid', `${file}: PROMETHEUS_VERSION must be a 3.<minor>.<patch> release`);
  return match[1]!;
}

export function prometheusCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(env['NEARBY_CACHE'] || join(env['HOME'] || homedir(), '.cache', 'nearby'), 'prometheus');
}

/** Both binaries of the pinned release; throws PrometheusMissingError naming what is wrong. */
export function resolvePrometheus(env: NodeJS.ProcessEnv = process.env): PrometheusBinaries {
  const version = pinnedPrometheusVersion();
  const record = join(prometheusCacheDir(env), 'current.json');
  let cached: { version?: unknown; prometheus?: unknown; promtool?: unknown };
  try {
    cached = JSON.parse(readFileSync(record, 'utf8')) as typeof cached;
  } catch {
    throw new PrometheusMissingError(version, `no readable ${record}`);
  }
  if (cached.version !== version) throw new PrometheusMissingError(version, `${record} is for ${String(cached.version)}`);
  const { prometheus, promtool } = cached;
  for (const [name, path] of [
    ['prometheus', prometheus],
    ['promtool', promtool],
  ] as const) {
    if (typeof path !== 'string' || !isExecutable(path)) {
      throw new PrometheusMissingError(version, `${record} names ${String(path)} for ${name}, which is not there`);
    }
  }
  return { version, prometheus: prometheus as string, promtool: promtool as string };
}
