/*
 * The lab's supervisor, one per lab in its own detached process, whichever backend runs its
 * cluster: it builds the nodes (cgroups, agents, pin roots), the bridge and the prober, keeps
 * lab.json, and answers the control requests. A lab is settled when every agent is ready, the
 * backend has nothing pending, and every node's pinned maps hold what the planner computes for
 * the objects the agents read.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { mapSizeFlags } from './agent-process.js';
import { nodeConvergence, type NodeConvergence } from './convergence.js';
import type { ClusterBackend, LabNode, SupervisorConfig } from './cluster-backend.js';
import type { ControlHandlers } from './control-protocol.js';
import type { RawDocument } from './documents.js';
import { LabError } from './errors.js';
import { execTargetIn, runningPodIn } from './exec-target.js';
import { prepareLabHost, startAgents } from './infrastructure.js';
import { PodNetwork, usedPodRange, type LabNetwork } from './ipam.js';
import type { NodePlan } from './kind-config.js';
import { PodEtcFiles } from './pod-etc.js';
import { applyPodFault, type PodFault } from './pod-fault.js';
import type { Prober } from './prober.js';
import { refOf, type ProcessRef } from './processes.js';
import { plannedView } from './planned-view.js';
import { LabRecordFile, newLabRecord, type NodeRecord } from './record.js';
import type { ExecTarget, LabStatus, NodeStatus, PodStatus, Settlement } from './status.js';
import { labStatus, podStatuses } from './status-views.js';
import { agentStatus, stuckNodes, waitUntilSettled, type NodeProgramming } from './waiting.js';

export const DEFAULT_WAIT_MS = 30_000;

export class LabSupervisor {
  private readonly nodes = new Map<string, LabNode>();
  private readonly record: LabRecordFile;
  private readonly etc = new PodEtcFiles();
  private prober: Prober | undefined;
  /** Where the prober connects from; `lab fault` lets it through. */
  private bridgeAddress: string | undefined;
  private started = false;
  private running = false;

  constructor(
    private readonly config: SupervisorConfig,
    private readonly backend: ClusterBackend,
  ) {
    const { paths, host } = config;
    const initial = newLabRecord(paths, host, refOf(process.pid));
    this.record = new LabRecordFile(paths.record, backend.runsControlPlane ? { ...initial, controlPlane: {} } : initial, () =>
      backend.runtimes(),
    );
  }

  /** The answer to every control request. */
  handlers(): ControlHandlers {
    return {
      ping: () => ({ pid: process.pid }),
      up: (r) => this.up(r.cluster, r.network, r.documents, r.namespace, r.peerRanges ?? []),
      apply: (r) => this.whenUp().apply(r.documents, r.namespace),
      delete: (r) => this.whenUp().delete(r.kind, r.name, r.namespace),
      label: (r) => this.whenUp().label(r.node, r.labels, r.overwrite),
      wait: (r) => this.wait(r.timeoutMs ?? DEFAULT_WAIT_MS),
      settlement: () => this.settlement(),
      status: () => this.status(),
      pods: (r) => this.podStatuses(r.namespace, r.selector),
      'exec-target': (r) => this.execTarget(r.namespace, r.target, r.container),
      'control-plane': (r) => this.backend.controlPlaneAction(r.action),
      fault: (r) => this.fault(r.namespace, r.target, r.fault),
    };
  }

  private whenUp(): ClusterBackend {
    if (!this.running) throw new LabError('conflict', `lab ${this.config.paths.name} is not up yet`);
    return this.backend;
  }

  async up(
    cluster: readonly NodePlan[],
    network: LabNetwork,
    documents: readonly RawDocument[],
    namespace: string,
    peerRanges: readonly string[],
  ): Promise<string[]> {
    if (this.started) throw new LabError('conflict', `lab ${this.config.paths.name} is already up`);
    this.started = true;
    const { host, paths, logger } = this.config;
    const pods = new PodNetwork(network.podSubnet);
    const accepted = this.backend.accept(cluster, network, documents, namespace);
    cluster.forEach((plan, index) => {
      const record: NodeRecord = {
        name: plan.name,
        role: plan.role,
        cgroup: join(paths.cgroupRoot, plan.name),
        pinRoot: join(paths.pinBase, plan.name),
        podCidr: pods.nodeCidr(index),
        agent: undefined,
      };
      this.record.addNode(record);
      this.nodes.set(plan.name, { plan, record, addresses: pods.nodeAddresses(index) });
    });
    this.record.save();

    this.bridgeAddress = pods.bridgeAddress;
    const { prober, apiServer } = await prepareLabHost(
      host,
      paths,
      pods.bridgeAddress,
      (ref) => this.record.setProber(ref),
      this.backend.runsControlPlane ? { podRange: usedPodRange(network.podSubnet) } : undefined,
    );
    this.prober = prober;
    const kubelet = logger.child({ component: 'kubelet' });
    const source = await this.backend.start({
      nodes: this.nodes,
      network,
      pods: {
        host,
        bridgeNetns: paths.bridgeNetns,
        peerRanges,
        ...(apiServer ? { apiServer } : {}),
        cgroupRoot: paths.cgroupRoot,
        podLogDir: join(paths.logDir, 'pods'),
        prober,
        logger: kubelet,
      },
      record: this.record,
      etc: this.etc,
      ...(apiServer ? { apiServer } : {}),
    });
    this.running = true;
    if (this.config.agents === 'daemonset' || !source) {
      logger.info('no lab agents: nearby runs as the DaemonSet the user installs');
      return [...accepted, ...(await this.backend.populate(documents, namespace))];
    }
    const agentNodes = [...this.nodes.values()].map((node) => ({
      name: node.plan.name,
      cgroup: node.record.cgroup,
      onProcess: (ref: (ProcessRef & { port: number }) | undefined) => {
        this.record.setAgent(node.record, ref);
        this.backend.agentListening?.(node.plan.name, node.record.podCidr, ref?.port);
      },
    }));
    const agents = await startAgents(host, paths, agentNodes, {
      source,
      preferClose: this.config.preferClose,
      mapSizes: this.config.mapSizes,
      ...(this.config.clusterName ? { clusterName: this.config.clusterName } : {}),
      logger: logger.child({ component: 'agents' }),
    });
    for (const node of this.nodes.values()) node.agent = agents.get(node.plan.name);
    return [...accepted, ...(await this.backend.populate(documents, namespace))];
  }

  async settlement(): Promise<Settlement> {
    const observed = await this.backend.observe();
    // The DaemonSet's agents, if any, are pods: the backend waits for them with the others.
    const ownAgents = this.config.agents !== 'daemonset';
    const agents = [...this.nodes.values()].flatMap((n) =>
      !ownAgents || n.agent?.ready ? [] : [`agent on ${n.plan.name}: ${n.agent?.reason ?? 'not started'}`],
    );
    const waiting = [...(observed.applying ? ['applying changes'] : []), ...agents, ...observed.waiting];
    const problems = [...observed.problems];
    const programming: NodeProgramming[] = [];
    if (waiting.length === 0 && problems.length === 0) {
      for (const node of this.nodes.values()) {
        // nearby's DaemonSet pins where the lab's agents would: once a node has pins, a wait
        // also waits for its datapath, so a demo step's curl never races the agent's write.
        if (!ownAgents && !existsSync(node.record.pinRoot)) continue;
        const c = this.convergence(node, observed.objects);
        if (!c.converged) waiting.push(`datapath of ${node.plan.name} not yet as planned: ${c.difference ?? ''}`);
        programming.push({ node: node.plan.name, agent: agentStatus(node.agent), notProgrammed: c.notProgrammed });
      }
    }
    const stuck = stuckNodes(programming, mapSizeFlags(this.config.mapSizes).join(' '));
    return { done: waiting.length === 0 && problems.length === 0, waiting, problems, ...(stuck.length > 0 ? { stuck } : {}) };
  }

  private convergence(node: LabNode, objects: readonly unknown[]): NodeConvergence {
    return nodeConvergence(objects, node.plan.name, node.record.pinRoot, this.config.preferClose, this.config.clusterName);
  }

  /** Until every pod is ready and every node converged; throws on a stuck pod or at the deadline. */
  wait(timeoutMs = DEFAULT_WAIT_MS): Promise<Settlement> {
    return waitUntilSettled(() => this.settlement(), timeoutMs, this.backend.pollMs);
  }

  async status(): Promise<LabStatus> {
    const { paths } = this.config;
    const objects = this.running ? (await this.backend.observe()).objects : [];
    const kubeconfig = this.backend.kubeconfig;
    const names = [...this.nodes.keys()];
    const view = plannedView(objects, names, {
      preferCloseMeaning: this.config.preferClose,
      ...(this.config.clusterName ? { localCluster: this.config.clusterName } : {}),
    });
    return labStatus({
      name: paths.name,
      stateDir: paths.stateDir,
      createdAt: this.record.record.createdAt,
      supervisorPid: process.pid,
      ...(kubeconfig ? { kubeconfig } : {}),
      nodes: [...this.nodes.values()].map((n): NodeStatus => ({
        name: n.plan.name,
        role: n.plan.role,
        labels: { ...(this.backend.nodeLabels(n.plan.name) ?? n.plan.labels) },
        locality: view.localities.get(n.plan.name) ?? null,
        podCidr: n.record.podCidr,
        cgroup: n.record.cgroup,
        pinRoot: n.record.pinRoot,
        agent: agentStatus(n.agent),
        notProgrammed: this.running ? this.convergence(n, objects).notProgrammed : [],
      })),
      pods: this.backend.podViews(),
      services: this.backend.serviceViews(),
      policies: view.policies,
    });
  }

  podStatuses(namespace?: string, selector?: string): PodStatus[] {
    return podStatuses(this.backend.podViews(), namespace, selector);
  }

  /** `POD`, `pod/POD` or `deployment/NAME` (a ready pod of it, as kubectl exec picks one). */
  execTarget(namespace: string, target: string, containerName?: string): ExecTarget {
    return execTargetIn(this.whenUp().runtimes(), namespace, target, containerName);
  }

  /** `lab fault`: the pod refuses or drops new connections, or takes them again; it stays Ready. */
  async fault(namespace: string, target: string, fault: PodFault): Promise<string[]> {
    const pod = runningPodIn(this.whenUp().runtimes(), namespace, target);
    const proberAddress = this.bridgeAddress;
    if (!proberAddress) throw new LabError('conflict', `lab ${this.config.paths.name} is not up yet`);
    const ports = pod.id.containers.flatMap((c) => c.ports.filter((p) => p.protocol === 'TCP').map((p) => p.containerPort));
    await applyPodFault(this.config.host.ip, pod.placement.link.netns, fault, { ports, proberAddress });
    this.config.logger.info({ pod: pod.key, fault, ports }, 'pod fault set');
    const on = ports.length > 0 ? `port${ports.length === 1 ? '' : 's'} ${ports.join(', ')}` : 'every TCP port';
    const what =
      fault === 'clear'
        ? `accepts connections again`
        : `${fault === 'refuse' ? 'refuses (RST)' : 'drops the SYNs of'} new connections on ${on}; readiness probes from ${proberAddress} still connect`;
    return [`pod/${pod.id.name} ${what}`];
  }

  /** Ends every process the lab runs; `lab down` removes the rest. */
  async shutdown(): Promise<void> {
    await this.backend.stop(async () => {
      await Promise.all([...[...this.nodes.values()].map((n) => n.agent?.stop(1000)), this.prober?.stop()]);
    });
  }
}
