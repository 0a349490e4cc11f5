/*
 * The lab supervisor as a process (with --control-plane, the kubelet of a real control plane):
 * started detached by `lab up`, it serves the lab's control socket until SIGTERM, then ends
 * every process it runs and exits (`lab down` removes the rest).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { serveControl, type ControlRequest } from './control.js';
import type { RawDocument } from './documents.js';
import { LabError } from './errors.js';
import { hostEnv } from './host.js';
import type { NodePlan } from './kind-config.js';
import { labPaths } from './layout.js';
import { ApiSupervisor } from './api-supervisor.js';
import { parseControlPlaneAction } from './control-plane-action.js';
import { DEFAULT_WAIT_MS, Supervisor } from './supervisor.js';

const { values } = parseArgs({
  options: { name: { type: 'string' }, bpffs: { type: 'string' }, 'prefer-close': { type: 'string' }, 'control-plane': { type: 'boolean' } },
  strict: true,
});
const name = values.name ?? '';
const preferClose = values['prefer-close'] === 'zone' ? 'zone' : 'subzone';
const host = hostEnv(values.bpffs);
const paths = labPaths(name, host.cgroup2, host.bpffs);
mkdirSync(paths.logDir, { recursive: true });
const logger = pino({ level: 'info', base: { lab: name } }, pino.destination({ dest: join(paths.logDir, 'supervisor.log'), sync: true }));
// A real control plane, or the lab's own controllers publishing manifests for FileSource agents.
const supervisor = values['control-plane'] ? new ApiSupervisor({ host, paths, logger, preferClose }) : new Supervisor({ host, paths, logger, preferClose });

function text(request: ControlRequest, key: string, fallback?: string): string {
  const value = request[key];
  if (typeof value === 'string') return value;
  if (fallback !== undefined) return fallback;
  throw new LabError('usage', `${request.op}: ${key} is required`);
}

function timeout(request: ControlRequest): number {
  return typeof request['timeoutMs'] === 'number' ? request['timeoutMs'] : DEFAULT_WAIT_MS;
}

async function handle(request: ControlRequest): Promise<unknown> {
  switch (request.op) {
    case 'ping':
      return { pid: process.pid };
    case 'up':
      return supervisor.up(request['cluster'] as NodePlan[], request['documents'] as RawDocument[], text(request, 'namespace', 'default'));
    case 'apply':
      return supervisor.apply(request['documents'] as RawDocument[], text(request, 'namespace', ''));
    case 'delete':
      return supervisor.delete(text(request, 'kind'), text(request, 'name'), text(request, 'namespace', 'default'));
    case 'label':
      return supervisor.label(text(request, 'node'), request['labels'] as Record<string, string | null>, request['overwrite'] === true);
    case 'wait':
      return supervisor.wait(timeout(request));
    case 'settlement':
      return supervisor.settlement();
    case 'status':
      return supervisor.status();
    case 'pods':
      return supervisor.podStatuses(request['namespace'] as string | undefined, request['selector'] as string | undefined);
    case 'exec-target':
      return supervisor.execTarget(text(request, 'namespace', 'default'), text(request, 'target'), request['container'] as string | undefined);
    case 'control-plane': {
      const action = parseControlPlaneAction(request['action']);
      if (!(supervisor instanceof ApiSupervisor)) throw new LabError('usage', `control-plane ${action}: lab ${name} has no real control plane (it was brought up without --control-plane)`);
      return supervisor.controlPlaneAction(action);
    }
    default:
      throw new LabError('usage', `unknown request ${JSON.stringify(request.op)}`);
  }
}

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

await serveControl(paths.socket, handle);
logger.info({ pid: process.pid, socket: paths.socket }, 'supervisor serving');
