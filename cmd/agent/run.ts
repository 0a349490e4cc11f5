/*
 * Wires the agent: source -> reconciler -> datapath, with metrics and health beside them.
 * The health server starts first so that a slow or failing start shows as not-ready with a
 * reason, rather than as a pod that does not answer at all.
 */
import pino, { type Logger } from 'pino';
import {
  ClaimingWriter,
  type Datapath,
  failOpenStatus,
  Heartbeat,
  MAP_NAMES,
  monotonicNs,
  readControl,
  readServiceEjections,
} from '../../pkg/datapath/index.js';
import { AgentMetrics, startHealthServer, type HealthServer } from '../../pkg/metrics/index.js';
import { Reconciler } from '../../pkg/reconciler/index.js';
import { apiServerOverrideUrl } from '../../pkg/source/index.js';
import type { AgentOptions } from './options.js';
import { openDatapath } from './open-datapath.js';
import { readiness } from './readiness.js';
import { createSource, type AgentSource } from './sources.js';

/** Spread so that a DaemonSet's agents, all refused by one API server outage, do not retry in step. */
const RETRY_JITTER = 0.2;

export interface RunningAgent {
  readonly logger: Logger;
  stop(): Promise<void>;
}

/**
 * Starting the source is retried until it works: an API server that cannot be reached yet
 * (control plane restarting, node network not up) is the normal first minute of a node, not a
 * reason to crash-loop. Meanwhile /readyz says what failed and when the next attempt is.
 */
async function startSourceWithRetry(
  source: AgentSource,
  retry: AgentOptions['apiRetry'],
  logger: Logger,
  report: (problem: string | undefined) => void,
  stopped: () => boolean,
): Promise<void> {
  let base = retry.firstMs;
  for (let attempt = 1; !stopped(); attempt++) {
    try {
      await source.start();
      if (attempt > 1) logger.info({ attempt }, 'source started');
      report(undefined);
      return;
    } catch (error) {
      const delay = Math.min(retry.maxMs, Math.round(base * (1 + RETRY_JITTER * Math.random())));
      base = Math.min(base * 2, retry.maxMs);
      report(`${(error as Error).message}; retrying in ${(delay / 1000).toFixed(1)}s (attempt ${attempt})`);
      logger.warn({ err: error, attempt, retryInMs: delay }, 'source did not start; retrying');
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

export async function runAgent(options: AgentOptions): Promise<RunningAgent> {
  const logger = pino({ level: options.logLevel, base: { node: options.nodeName } });
  const metrics = new AgentMetrics({ maps: MAP_NAMES });
  let source: AgentSource | undefined;
  // eslint-disable-next-line prefer-const -- readiness() reads it before the reconciler exists; a const would still be in its TDZ then
  let reconciler: Reconciler | undefined;
  let startProblem: string | undefined;
  let stopping = false;

  const server: HealthServer = await startHealthServer({
    listen: options.listen,
    registry: metrics.registry,
    logger,
    readiness: () => readiness(options.nodeName, source?.status(), startProblem, reconciler?.lastCompletedResult()),
  });

  let datapath: Datapath;
  try {
    datapath = openDatapath(options);
  } catch (error) {
    await server.close();
    throw error;
  }
  // First, before the source or a pass: a restart shorter than --fail-open-after never trips it.
  const { loaded } = datapath;
  const heartbeat = new Heartbeat(loaded.control, options.failOpenAfterMs, monotonicNs, loaded.layout);
  // Upgrading to another map layout: the old programs read the old control row until the swap.
  const oldHeartbeat =
    loaded.previousControl && loaded.report.upgradingFrom !== undefined
      ? new Heartbeat(loaded.previousControl, options.failOpenAfterMs, monotonicNs, loaded.report.upgradingFrom)
      : undefined;
  try {
    heartbeat.start();
    oldHeartbeat?.start();
  } catch (error) {
    datapath.close();
    await server.close();
    throw error;
  }
  const { report } = datapath.loaded;
  logger.info(
    {
      pinRoot: options.pinRoot,
      cgroup: options.cgroupPath,
      readBack: datapath.writer.readBack,
      reusedMaps: report.reusedMaps,
      updatedLinks: report.updatedLinks,
      failOpenAfterMs: options.failOpenAfterMs,
      layout: loaded.layout,
      upgradingFrom: report.upgradingFrom,
    },
    'datapath open',
  );
  for (const m of report.sizeMismatches) logger.warn(m, 'pinned map size differs from the flag; the pinned size is kept');

  try {
    source = createSource(options, (err) => logger.error({ err }, 'source change listener failed'), logger.child({ component: 'source' }));
  } catch (error) {
    heartbeat.stop();
    oldHeartbeat?.stop();
    datapath.close();
    await server.close();
    throw error;
  }
  const agentSource = source;
  logger.info(
    {
      source: options.stateDir
        ? `dir ${options.stateDir}`
        : options.kubeconfig
          ? `kubeconfig ${options.kubeconfig}`
          : options.apiServer
            ? `in-cluster credentials at ${apiServerOverrideUrl(options.apiServer)}`
            : 'in-cluster',
    },
    'source',
  );

  const rec = new Reconciler(
    {
      source: agentSource,
      writer: new ClaimingWriter(datapath.writer, datapath.loaded.maps.claims),
      nodeName: options.nodeName,
      planOptions: {
        preferCloseMeaning: options.preferClose,
        rootNamespace: options.rootNamespace,
        clusterDomain: options.clusterDomain,
        localCluster: options.clusterName,
        serviceProxyName: options.serviceProxyName,
        services: options.services,
        spillover: options.spillover,
      },
      resyncMs: options.resyncMs,
    },
    logger.child({ component: 'reconciler' }),
  );
  reconciler = rec;
  rec.onResult((result) => {
    // The new maps hold a whole pass: now the programs that read them can take over.
    if (result.completed && loaded.upgrading) {
      try {
        loaded.finishUpgrade();
        oldHeartbeat?.stop();
        logger.info({ from: loaded.report.upgradingFrom, to: loaded.layout }, 'map layout upgraded');
      } catch (err) {
        logger.error({ err }, 'switching to the new map layout failed; the old one keeps serving');
      }
    }
    metrics.recordReconcile(result);
    metrics.recordSourceStats(agentSource.stats?.() ?? {});
  });
  // Labels come from the writer when a scrape asks: no pass pays for them.
  metrics.setConnectCounters(() => {
    const labels = datapath.writer.labelsById();
    return datapath
      .counters()
      .map((c) => ({ service: labels.get(c.svcId) ?? '', tier: c.tier, attempts: c.attempts, failed: c.failed, refused: c.refused }));
  });
  metrics.setEjectionCounts(() => {
    const labels = datapath.writer.labelsById();
    return [...readServiceEjections(datapath.loaded.maps.svcEjections)].map(([id, e]) => ({
      service: labels.get(id) ?? '',
      ejections: e.total,
      ejectedNow: e.active,
    }));
  });
  // The row the attached programs read: the old layout's until an upgrade swaps them.
  metrics.setFailOpen(() => {
    const row = readControl(loaded.upgrading && loaded.previousControl ? loaded.previousControl : loaded.control);
    return row ? failOpenStatus(row, monotonicNs()) : undefined;
  });
  rec.start();
  void startSourceWithRetry(
    agentSource,
    options.apiRetry,
    logger,
    (problem) => (startProblem = problem),
    () => stopping,
  );

  return {
    logger,
    async stop() {
      stopping = true;
      rec.stop();
      await agentSource.stop().catch((err: unknown) => logger.warn({ err }, 'stopping the source failed'));
      await server.close();
      heartbeat.stop();
      oldHeartbeat?.stop();
      // Only our handles go: the pinned links and maps keep serving connects while we are away.
      datapath.close();
      logger.info('stopped; the pinned datapath keeps serving');
    },
  };
}
