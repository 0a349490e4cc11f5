/*
 * What every lab builds before its first pod, whichever control plane it runs: the lab's own
 * cgroup (holding the supervisor and everything it starts), the bridge namespace, the readiness
 * prober, one cgroup and one agent per node; with a real control plane, the API server's address
 * on the bridge (api-link.ts), so pods reach it as a real cluster's pods do. Shared by the file-backed supervisor and the one on
 * a real API server.
 */
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { AgentProcess, type AgentSource, type LabMapSizes } from './agent-process.js';
import { assertInside, createCgroup, moveInto } from './cgroups.js';
import { LabError } from './errors.js';
import type { HostEnv } from './host.js';
import type { LabPaths } from './layout.js';
import { createBridge } from './pod-network.js';
import { publishApiAddress } from './api-link.js';
import { Prober } from './prober.js';
import type { ProcessRef } from './processes.js';

export interface LabHost {
  readonly prober: Prober;
  /** The API server's address on the bridge, when asked for (publishApiServer). */
  readonly apiServer?: string;
}

/**
 * Builds the lab's cgroup, moves this process into it, and starts the bridge and the prober;
 * with `publishApiServer` (the lab's pod /16), also the API server's link into the bridge.
 */
export async function prepareLabHost(
  host: HostEnv,
  paths: LabPaths,
  bridgeAddress: string,
  onProber: (ref: ProcessRef | undefined) => void,
  publishApiServer?: { readonly podRange: string },
): Promise<LabHost> {
  for (const dir of [paths.logDir, join(paths.logDir, 'pods')]) mkdirSync(dir, { recursive: true });
  createCgroup(paths.cgroupRoot, paths.systemCgroup);
  // The supervisor, and the agents and prober it starts, live in the lab's own cgroup, so
  // `lab down` finds every one of them even after the supervisor was SIGKILLed.
  moveInto(paths.cgroupRoot, paths.systemCgroup);
  await createBridge(host.ip, paths.bridgeNetns, bridgeAddress);
  const apiServer = publishApiServer
    ? await publishApiAddress(host.ip, paths.name, paths.bridgeNetns, publishApiServer.podRange)
    : undefined;
  const proberLog = openSync(join(paths.logDir, 'prober.log'), 'a');
  try {
    const prober = await Prober.start(host.ip, paths.bridgeNetns, proberLog);
    onProber(prober.ref);
    return { prober, ...(apiServer ? { apiServer } : {}) };
  } finally {
    closeSync(proberLog);
  }
}

export interface AgentNode {
  readonly name: string;
  readonly cgroup: string;
  readonly onProcess: (ref: (ProcessRef & { port: number }) | undefined) => void;
}

/** Creates each node's cgroup and starts its agent, attached to that cgroup only. */
export async function startAgents(
  host: HostEnv,
  paths: LabPaths,
  nodes: readonly AgentNode[],
  options: { source: AgentSource; preferClose: 'subzone' | 'zone'; mapSizes: LabMapSizes; clusterName?: string; logger: Logger },
): Promise<Map<string, AgentProcess>> {
  const agents = new Map<string, AgentProcess>();
  for (const node of nodes) createCgroup(paths.cgroupRoot, node.cgroup);
  for (const node of nodes) {
    // The agent attaches wherever it is told: only ever a node cgroup of this lab.
    assertInside(paths.cgroupRoot, node.cgroup);
    if (node.cgroup === paths.cgroupRoot) throw new LabError('system', `refusing to attach to the lab root ${node.cgroup}`);
    const agent = new AgentProcess({
      node: node.name,
      cgroup: node.cgroup,
      source: options.source,
      bpffs: host.bpffs,
      preferClose: options.preferClose,
      mapSizes: options.mapSizes,
      ...(options.clusterName ? { clusterName: options.clusterName } : {}),
      logFile: join(paths.logDir, `agent-${node.name}.log`),
      logger: options.logger,
      onProcess: node.onProcess,
    });
    agents.set(node.name, agent);
    await agent.start();
  }
  return agents;
}
