/*
 * The Prometheus of `lab up --control-plane --prometheus`: the pinned release (`make prometheus`)
 * as a process of the lab, listening on loopback, reading the lab's API server through
 * kubernetes_sd_configs, with nearby's alert rules loaded. Its ref goes into lab.json with the
 * control plane's, so `lab down` ends it even when the supervisor is gone.
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { LabError } from '../errors.js';
import { freePorts } from '../free-port.js';
import { isRunning, refOf, sleep, terminate, type ProcessRef } from '../processes.js';
import { PROJECT_ROOT } from '../programs.js';
import { resolvePrometheus } from './binaries.js';
import { prometheusConfig } from './scrape-config.js';

export const RULES_FILE = join(PROJECT_ROOT, 'deploy/prometheus/nearby-rules.yaml');
/** Short, so a test sees a scrape and a rule evaluation within seconds. */
const SCRAPE_INTERVAL_S = 2;
const READY_TIMEOUT_MS = 60_000;

export interface LabPrometheusOptions {
  /** Its config, data and log live here. */
  readonly dir: string;
  readonly logFile: string;
  readonly kubeconfig: string;
  readonly logger: Logger;
  readonly onProcess: (ref: ProcessRef | undefined) => void;
}

export class LabPrometheus {
  private constructor(
    readonly url: string,
    private readonly ref: ProcessRef,
    private readonly options: LabPrometheusOptions,
  ) {}

  static async start(options: LabPrometheusOptions): Promise<LabPrometheus> {
    const binaries = resolvePrometheus();
    mkdirSync(join(options.dir, 'data'), { recursive: true });
    const config = join(options.dir, 'prometheus.yml');
    writeFileSync(config, prometheusConfig({ kubeconfig: options.kubeconfig, rulesFile: RULES_FILE, scrapeIntervalS: SCRAPE_INTERVAL_S }));
    const port = (await freePorts(1))[0]!;
    const listen = `127.0.0.1:${port}`;
    const log = openSync(options.logFile, 'a');
    const child = spawn(
      binaries.prometheus,
      [
        `--config.file=${config}`,
        `--storage.tsdb.path=${join(options.dir, 'data')}`,
        `--web.listen-address=${listen}`,
        '--storage.tsdb.retention.time=1d',
      ],
      { stdio: ['ignore', log, log], env: { PATH: process.env['PATH'] ?? '' }, cwd: options.dir },
    );
    closeSync(log);
    const ref = child.pid !== undefined ? refOf(child.pid) : undefined;
    if (!ref) throw new LabError('system', `prometheus did not start; see ${options.logFile}`);
    options.onProcess(ref);
    const running = new LabPrometheus(`http://${listen}`, ref, options);
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (!(await running.ready())) {
      if (!isRunning(ref) || Date.now() > deadline) {
        await running.stop();
        throw new LabError('system', `prometheus ${binaries.version} did not become ready; see ${options.logFile}`);
      }
      await sleep(200);
    }
    options.logger.info({ pid: ref.pid, url: running.url, version: binaries.version }, 'prometheus ready');
    return running;
  }

  private async ready(): Promise<boolean> {
    try {
      return (await fetch(`${this.url}/-/ready`, { signal: AbortSignal.timeout(1000) })).ok;
    } catch {
      return false;
    }
  }

  async stop(): Promise<void> {
    await terminate([this.ref], 5000);
    this.options.onProcess(undefined);
  }
}
