/*
 * `lab up`: checks everything that can be checked before building anything (machine, build,
 * manifests, images, leftovers), then starts the lab's supervisor detached, has it build the
 * cluster, and waits until agents and pods are ready and every node's datapath is programmed.
 * Several kind configs make a lab set (lab-set.ts): a lab per cluster on one flat network.
 */
import type { LabAgents, LabMapSizes } from './agent-process.js';
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_TIMEOUT_MS, LabClient, readInput, type ManifestInput } from './client.js';
import { writeLabKustomization } from './daemonset-kustomization.js';
import { LabError, messageOf } from './errors.js';
import type { RawDocument } from './documents.js';
import { hostEnv, type HostEnv } from './host.js';
import { isKindCluster, planCluster, type ClusterPlan } from './kind-config.js';
import { labSetKubeconfigPath, mergeKubeconfigs, planLabSet, writeLabSet } from './lab-set.js';
import { linkBridges } from './pod-network.js';
import { assertLabName, DEFAULT_LAB_NAME, labPaths } from './layout.js';
import { resolveControlPlaneBinaries } from './control-plane/binaries.js';
import { resolvePrometheus } from './prometheus/index.js';
import { readApplied } from './objects.js';
import { isRunning, refOf, sleep } from './processes.js';
import { assertBuilt, PROGRAMS } from './programs.js';
import { readRecord } from './record.js';
import { resolveNodeBinaries, resolvePauseImage } from './real-node/index.js';
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
  /**
   * With controlPlane: also run the pinned Prometheus (`make prometheus`), discovering the agents
   * through the API server (lab/prometheus); its URL is in the up lines and prometheusUrlFile().
   */
  readonly prometheus?: boolean;
  /**
   * With controlPlane: every lab node runs a real kubelet and its own containerd (lab/real-node,
   * docs/real-nodes.md) instead of the lab playing the kubelet.
   */
  readonly realNodes?: boolean;
  /**
   * With realNodes: 'daemonset' starts no lab agents (host processes), so that nearby's own
   * DaemonSet, installed by the user, runs on the real nodes; lab up then waits for the nodes and
   * pods only. 'process' (the default): the lab's agents.
   */
  readonly agents?: LabAgents;
  /** Other map sizes for the agents than the lab's (docs/nearbyctl.md, "Map sizes"): for tests of a full map. */
  readonly mapSizes?: Partial<LabMapSizes>;
  /** Progress lines (leftovers removed, objects created). */
  readonly log?: (line: string) => void;
}

export interface UpResult {
  /** The lab, or with several clusters the first. */
  readonly lab: LabClient;
  /** Every cluster's lab, in the order of the kind configs. */
  readonly labs: readonly LabClient[];
  /** With several clusters: the kubeconfig holding a kind-<name> context per cluster. */
  readonly kubeconfig?: string;
  /** With --agents daemonset: the directory that installs nearby for this lab with `kubectl apply -k`. */
  readonly kustomization?: string;
  readonly lines: readonly string[];
  readonly elapsedMs: number;
}

// A bound, not a wait: the poll ends as soon as the socket exists or the supervisor dies. Node alone
// took more than 10 s to load the supervisor at load average 23-36 here (two lab ups failed so).
const SUPERVISOR_START_MS = 60_000;

async function startSupervisor(
  name: string,
  logFile: string,
  bpffs: string,
  socket: string,
  flags: {
    preferClose: string;
    controlPlane: boolean;
    prometheus?: boolean;
    realNodes?: boolean;
    agents?: LabAgents;
    clusterName?: string;
    mapSizes?: Partial<LabMapSizes>;
  },
): Promise<void> {
  const log = openSync(logFile, 'a');
  const { NODE_OPTIONS: _dropped, ...env } = process.env;
  const child = spawn(
    process.execPath,
    [
      PROGRAMS.supervisor,
      ...['--name', name, '--bpffs', bpffs, '--prefer-close', flags.preferClose],
      ...(flags.controlPlane ? ['--control-plane'] : []),
      ...(flags.prometheus ? ['--prometheus'] : []),
      ...(flags.realNodes ? ['--real-nodes'] : []),
      ...(flags.agents ? ['--agents', flags.agents] : []),
      ...(flags.clusterName ? ['--cluster-name', flags.clusterName] : []),
      ...(flags.mapSizes ? ['--map-sizes', JSON.stringify(flags.mapSizes)] : []),
    ],
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

/** What one cluster of a lab set adds to its lab: its agents' cluster name, the other clusters' pod ranges. */
interface SetRole {
  readonly clusterName: string;
  readonly peerRanges: readonly string[];
}

/** Refuses a lab that is up, removes what a crashed one left, and refuses pin roots no lab owns. */
async function clearTheWay(host: HostEnv, name: string, cluster: ClusterPlan, log: (line: string) => void): Promise<void> {
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
}

/** Starts the lab's supervisor and has it build the cluster; a lab that fails half-way is removed. */
async function startLab(
  host: HostEnv,
  name: string,
  cluster: ClusterPlan,
  manifests: readonly RawDocument[],
  options: UpOptions,
  role: SetRole | undefined,
): Promise<{ lab: LabClient; lines: string[] }> {
  const paths = labPaths(name, host.cgroup2, host.bpffs);
  const namespace = options.namespace ?? '';
  // Root only: the control socket in it can change the lab.
  mkdirSync(paths.stateDir, { recursive: true, mode: 0o700 });
  mkdirSync(paths.logDir, { recursive: true });
  await startSupervisor(name, join(paths.logDir, 'supervisor.out'), host.bpffs, paths.socket, {
    preferClose: options.preferClose ?? 'subzone',
    controlPlane: options.controlPlane === true,
    prometheus: options.prometheus === true,
    realNodes: options.realNodes === true,
    ...(options.agents ? { agents: options.agents } : {}),
    ...(role ? { clusterName: role.clusterName } : {}),
    ...(options.mapSizes ? { mapSizes: options.mapSizes } : {}),
  });
  const lab = new LabClient(name, host);
  try {
    const lines = await lab.call(
      {
        op: 'up',
        cluster: [...cluster.nodes],
        network: cluster.network,
        documents: [...manifests],
        namespace,
        ...(role ? { peerRanges: [...role.peerRanges] } : {}),
      },
      options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    );
    return { lab, lines };
  } catch (error) {
    // Half a lab is no use: remove it, and say why it failed.
    const report = await teardownLab(host, name).catch(() => undefined);
    const left = report && report.remaining.length > 0 ? ` (and could not remove: ${report.remaining.join('; ')})` : '';
    throw new LabError(error instanceof LabError ? error.code : 'system', `lab ${name} did not come up: ${messageOf(error)}${left}`, {
      cause: error,
    });
  }
}

async function waitReady(lab: LabClient, timeoutMs: number, started: number): Promise<void> {
  try {
    await lab.wait(Math.max(1000, timeoutMs - (Date.now() - started)));
  } catch (error) {
    throw new LabError(
      error instanceof LabError ? error.code : 'system',
      `lab ${lab.name} is up but not ready: ${messageOf(error)}; ` +
        `see nearbyctl lab status --name ${lab.name}, or remove it with nearbyctl lab down --name ${lab.name}`,
      { cause: error },
    );
  }
}

export async function labUp(options: UpOptions): Promise<UpResult> {
  const started = Date.now();
  const log = options.log ?? (() => undefined);
  const host = hostEnv(options.bpffs);
  assertBuilt();
  // Before anything is built: a missing `make control-plane` is a prerequisite error, not half a lab.
  if (options.controlPlane) resolveControlPlaneBinaries();
  if (options.prometheus) {
    if (!options.controlPlane)
      throw new LabError('usage', '--prometheus needs --control-plane: it discovers the agents through the API server');
    resolvePrometheus();
  }
  if (options.realNodes) {
    if (!options.controlPlane) throw new LabError('usage', '--real-nodes needs --control-plane: the kubelets register with its API server');
    resolveNodeBinaries();
    resolvePauseImage();
  }
  if (options.agents === 'daemonset' && !options.realNodes)
    throw new LabError('usage', '--agents daemonset needs --real-nodes: only real kubelets run the DaemonSet');

  const documents = readInput(options);
  const clusterDocs = documents.filter((d) => isKindCluster(d.object));
  const manifests = documents.filter((d) => !isKindCluster(d.object));
  if (clusterDocs.length > 1) return labSetUp(host, clusterDocs, manifests, options, started);
  const clusterDoc = clusterDocs[0]?.object;
  const name = options.name ?? (typeof clusterDoc?.['name'] === 'string' ? clusterDoc['name'] : DEFAULT_LAB_NAME);
  assertLabName(name);
  const cluster = planCluster(clusterDoc, name);
  for (const note of cluster.notes) log(note);
  const namespace = options.namespace ?? '';
  const nodeNames = new Set(cluster.nodes.map((n) => n.name));
  for (const d of manifests) {
    const object = readApplied(d.object, d.origin, namespace);
    if (object.kind === 'Node' && !nodeNames.has(object.name)) {
      throw new LabError('invalid', `${d.origin}: node ${object.name} is not in the cluster (its nodes: ${[...nodeNames].join(', ')})`);
    }
  }
  await clearTheWay(host, name, cluster, log);
  const { lab, lines } = await startLab(host, name, cluster, manifests, options, undefined);
  for (const line of lines) log(line);
  await waitReady(lab, options.timeoutMs ?? DEFAULT_TIMEOUT_MS, started);
  const kustomization = options.agents === 'daemonset' ? writeLabKustomization(labPaths(name, host.cgroup2, host.bpffs)) : undefined;
  if (kustomization) log(`nearby for this lab: kubectl apply -k ${kustomization} (or helm install, docs/real-nodes.md)`);
  return { lab, labs: [lab], lines, ...(kustomization ? { kustomization } : {}), elapsedMs: Date.now() - started };
}

/**
 * Several kind configs: a lab per cluster (lab-set.ts), each on its own real control plane,
 * their bridges joined into one flat network, and one kubeconfig with a kind-<name> context each.
 * Manifests are applied per cluster afterwards (kubectl --context), so none are taken here.
 */
async function labSetUp(
  host: HostEnv,
  clusterDocs: readonly RawDocument[],
  manifests: readonly RawDocument[],
  options: UpOptions,
  started: number,
): Promise<UpResult> {
  const log = options.log ?? (() => undefined);
  const origins = clusterDocs.map((d) => d.origin).join(', ');
  if (!options.controlPlane)
    throw new LabError('usage', `several kind Cluster configs (${origins}) need --control-plane: each cluster runs its own API server`);
  if (options.name)
    throw new LabError('usage', `--name does not apply to several kind Cluster configs (${origins}): each config names its cluster`);
  if (manifests.length > 0)
    throw new LabError(
      'usage',
      `with several clusters, apply manifests to each with kubectl --context kind-NAME, not with lab up (${manifests.map((d) => d.origin).join(', ')})`,
    );
  const set = planLabSet(clusterDocs.map((d) => d.object));
  for (const note of set.notes) log(note);
  for (const member of set.members) await clearTheWay(host, member.name, member.plan, log);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const labs: LabClient[] = [];
  const lines: string[] = [];
  try {
    for (const member of set.members) {
      const up = await startLab(host, member.name, member.plan, [], options, { clusterName: member.name, peerRanges: member.peerRanges });
      labs.push(up.lab);
      for (const line of up.lines) log(`${member.name}: ${line}`);
      lines.push(...up.lines);
    }
    const bridges = set.members.map((m) => ({ lab: m.name, netns: labPaths(m.name, host.cgroup2, host.bpffs).bridgeNetns }));
    for (const [i, a] of bridges.entries()) for (const b of bridges.slice(i + 1)) await linkBridges(host.ip, a, b);
    const kubeconfigs: Array<readonly [string, string]> = [];
    for (const lab of labs) {
      const own = (await lab.status()).kubeconfig;
      if (!own) throw new LabError('system', `lab ${lab.name} has no kubeconfig`);
      kubeconfigs.push([lab.name, own]);
    }
    const kubeconfig = labSetKubeconfigPath(labs[0]!.name);
    writeFileSync(kubeconfig, mergeKubeconfigs(kubeconfigs), { mode: 0o600 });
    writeLabSet({ clusters: labs.map((l) => l.name), kubeconfig });
    for (const lab of labs) await waitReady(lab, timeoutMs, started);
    return { lab: labs[0]!, labs, lines, elapsedMs: Date.now() - started, kubeconfig };
  } catch (error) {
    // One cluster without the others is not the lab that was asked for: remove every member.
    for (const member of set.members) await teardownLab(host, member.name).catch(() => undefined);
    throw error;
  }
}
