/*
 * `lab up`: checks everything that can be checked before building anything (machine, build,
 * manifests, images, leftovers), then starts the lab's supervisor detached, has it build the
 * cluster, and waits until agents and pods are ready and every node's datapath is programmed.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_TIMEOUT_MS, LabClient, readInput, type ManifestInput } from './client.js';
import { LabError, messageOf } from './errors.js';
import { hostEnv } from './host.js';
import { isKindCluster, planCluster } from './kind-config.js';
import { assertLabName, DEFAULT_LAB_NAME, labPaths } from './layout.js';
import { resolveControlPlaneBinaries } from './control-plane/binaries.js';
import { readApplied } from './objects.js';
import { isRunning, refOf, sleep } from './processes.js';
import { assertBuilt, PROGRAMS } from './programs.js';
import { readRecord } from './record.js';
import { labExists, teardownLab } from './teardown.js';

export interface UpOptions extends ManifestInput {
  /** Overrides the kind Cluster document's name; default "nearby". */
  readonly name?: string;
  /** The -n of the manifests without a namespace. */
  readonly namespace?: string;
  readonly timeoutMs?: number;
  /** What PreferClose means to the agents: subzone (the seed, Kmesh) or zone (Istio >= 1.27). */
  readonly preferClose?: 'subzone' | 'zone';
  readonly bpffs?: string;
  /**
   * Run a real control plane (etcd, kube-apiserver, controller-manager, scheduler from `make
   * control-plane`) and agents on KubernetesSource, instead of the lab's own controllers and
   * FileSource agents.
   */
  readonly controlPlane?: boolean;
  /** Progress lines (leftovers removed, objects created). */
  readonly log?: (line: string) => void;
}

export interface UpResult {
  readonly lab: LabClient;
  readonly lines: readonly string[];
  readonly elapsedMs: number;
}

const SUPERVISOR_START_MS = 10_000;

async function startSupervisor(
  name: string,
  logFile: string,
  bpffs: string,
  preferClose: string,
  socket: string,
  controlPlane: boolean,
): Promise<void> {
  const log = openSync(logFile, 'a');
  const { NODE_OPTIONS: _dropped, ...env } = process.env;
  const child = spawn(
    process.execPath,
    [PROGRAMS.supervisor, '--name', name, '--bpffs', bpffs, '--prefer-close', preferClose, ...(controlPlane ? ['--control-plane'] : [])],
    {
      detached: true,
      stdio: ['ignore', log, log],
      env,
      cwd: '/',
    },
  );
  closeSync(log);
  child.unref();
  const ref = child.pid !== undefined ? refOf(child.pid) : undefined;
  const deadline = Date.now() + SUPERVISOR_START_MS;
  while (Date.now() < deadline) {
    if (existsSync(socket)) return;
    if (!ref || !isRunning(ref)) break;
    await sleep(20);
  }
  const output = existsSync(logFile) ? readFileSync(logFile, 'utf8').trim().split('\n').slice(-10).join('\n') : '';
  throw new LabError('system', `the lab supervisor did not start${output ? `:\n${output}` : ''}`);
}

export async function labUp(options: UpOptions): Promise<UpResult> {
  const started = Date.now();
  const log = options.log ?? (() => undefined);
  const host = hostEnv(options.bpffs);
  assertBuilt();
  // Before anything is built: a missing `make control-plane` is a prerequisite error, not half a lab.
  if (options.controlPlane) resolveControlPlaneBinaries();

  const documents = readInput(options);
  const clusterDocs = documents.filter((d) => isKindCluster(d.object));
  if (clusterDocs.length > 1)
    throw new LabError('invalid', `more than one kind Cluster document: ${clusterDocs.map((d) => d.origin).join(', ')}`);
  const clusterDoc = clusterDocs[0]?.object;
  const name = options.name ?? (typeof clusterDoc?.['name'] === 'string' ? clusterDoc['name'] : DEFAULT_LAB_NAME);
  assertLabName(name);
  const cluster = planCluster(clusterDoc, name);
  for (const note of cluster.notes) log(note);
  const manifests = documents.filter((d) => !isKindCluster(d.object));
  const namespace = options.namespace ?? '';
  const nodeNames = new Set(cluster.nodes.map((n) => n.name));
  for (const d of manifests) {
    const object = readApplied(d.object, d.origin, namespace);
    if (object.kind === 'Node' && !nodeNames.has(object.name)) {
      throw new LabError('invalid', `${d.origin}: node ${object.name} is not in the cluster (its nodes: ${[...nodeNames].join(', ')})`);
    }
  }

  const paths = labPaths(name, host.cgroup2, host.bpffs);
  const previous = existsSync(paths.record) ? readRecord(paths.record) : undefined;
  if (previous?.supervisor && isRunning(previous.supervisor)) {
    throw new LabError(
      'conflict',
      `lab ${name} is already up (supervisor pid ${previous.supervisor.pid}); run nearbyctl lab down --name ${name} first`,
    );
  }
  if (await labExists(host, name)) {
    const report = await teardownLab(host, name);
    if (report.remaining.length > 0) {
      throw new LabError(
        'leftovers',
        `lab ${name} has leftovers that could not be removed, so it was not started: ${report.remaining.join('; ')}`,
      );
    }
    log(`removed leftovers of an earlier lab ${name} whose supervisor is gone: ${report.removed.join(', ')}`);
  }
  for (const node of cluster.nodes) {
    const pinRoot = join(paths.pinBase, node.name);
    if (existsSync(pinRoot)) {
      throw new LabError(
        'conflict',
        `${pinRoot} exists and no lab owns it (another nearby agent for a node ${node.name}?); ` +
          'remove it if it is a leftover, or pick another lab name',
      );
    }
  }

  // Root only: the control socket in it can change the lab.
  mkdirSync(paths.stateDir, { recursive: true, mode: 0o700 });
  mkdirSync(paths.logDir, { recursive: true });
  const preferClose = options.preferClose ?? 'subzone';
  await startSupervisor(name, join(paths.logDir, 'supervisor.out'), host.bpffs, preferClose, paths.socket, options.controlPlane === true);
  const lab = new LabClient(name, host);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  let lines: string[];
  try {
    lines = await lab.call({ op: 'up', cluster: [...cluster.nodes], network: cluster.network, documents: manifests, namespace }, timeoutMs);
  } catch (error) {
    // Half a lab is no use: remove it, and say why it failed.
    const report = await teardownLab(host, name).catch(() => undefined);
    const left = report && report.remaining.length > 0 ? ` (and could not remove: ${report.remaining.join('; ')})` : '';
    throw new LabError(error instanceof LabError ? error.code : 'system', `lab ${name} did not come up: ${messageOf(error)}${left}`, {
      cause: error,
    });
  }
  for (const line of lines) log(line);
  try {
    await lab.wait(Math.max(1000, timeoutMs - (Date.now() - started)));
  } catch (error) {
    throw new LabError(
      error instanceof LabError ? error.code : 'system',
      `lab ${name} is up but not ready: ${messageOf(error)}; ` +
        `see nearbyctl lab status --name ${name}, or remove it with nearbyctl lab down --name ${name}`,
      { cause: error },
    );
  }
  return { lab, lines, elapsedMs: Date.now() - started };
}
