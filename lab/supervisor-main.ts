/*
 * The lab supervisor as a process (with --control-plane, the kubelet of a real control plane):
 * started detached by `lab up`, it serves the lab's control socket until SIGTERM, then ends
 * every process it runs and exits (`lab down` removes the rest).
 */
import { LAB_MAP_SIZES, type LabMapSizes } from './agent-process.js';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { ApiClusterBackend } from './api-backend.js';
import { serveControl } from './control.js';
import { FileClusterBackend } from './file-backend.js';
import { hostEnv } from './host.js';
import { labPaths } from './layout.js';
import { LabSupervisor } from './supervisor.js';

const { values } = parseArgs({
  options: {
    name: { type: 'string' },
    bpffs: { type: 'string' },
    'prefer-close': { type: 'string' },
    'control-plane': { type: 'boolean' },
    'cluster-name': { type: 'string' },
    'map-sizes': { type: 'string' },
    prometheus: { type: 'boolean' },
    'real-nodes': { type: 'boolean' },
    agents: { type: 'string' },
  },
  strict: true,
});
const name = values.name ?? '';
const preferClose = values['prefer-close'] === 'zone' ? 'zone' : 'subzone';
const host = hostEnv(values.bpffs);
const paths = labPaths(name, host.cgroup2, host.bpffs);
mkdirSync(paths.logDir, { recursive: true });
const logger = pino({ level: 'info', base: { lab: name } }, pino.destination({ dest: join(paths.logDir, 'supervisor.log'), sync: true }));
const clusterName = values['cluster-name'];
const agents = values.agents === 'daemonset' ? 'daemonset' : 'process';
// A real control plane, or the lab's own controllers publishing manifests for FileSource agents.
const backend = values['control-plane']
  ? new ApiClusterBackend(paths, logger, {
      ...(clusterName ? { clusterName } : {}),
      prometheus: values.prometheus === true,
      realNodes: values['real-nodes'] === true,
      agents,
    })
  : new FileClusterBackend(paths, logger);
const mapSizes = { ...LAB_MAP_SIZES, ...(values['map-sizes'] ? (JSON.parse(values['map-sizes']) as Partial<LabMapSizes>) : {}) };
const supervisor = new LabSupervisor(
  { host, paths, logger, preferClose, mapSizes, agents, ...(clusterName ? { clusterName } : {}) },
  backend,
);

let stopping = false;
async function stop(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'stopping');
  const forced = setTimeout(() => process.exit(1), 5000);
  forced.unref();
  await supervisor.shutdown().catch((err: unknown) => logger.error({ err }, 'shutdown failed'));
  logger.info('stopped');
  process.exit(0);
}

process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('SIGINT', () => void stop('SIGINT'));
process.on('uncaughtException', (err) => {
  logger.fatal({ err }, 'uncaught exception');
  process.exit(1);
});

await serveControl(paths.socket, supervisor.handlers());
logger.info({ pid: process.pid, socket: paths.socket }, 'supervisor serving');
