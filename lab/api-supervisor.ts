/*
 * The lab on a real control plane: etcd, kube-apiserver, kube-controller-manager and
 * kube-scheduler run as processes of the lab, and this supervisor is only the kubelet of the
 * lab's nodes (lab/kubelet). The scheduler places pods, the controller-manager turns
 * Deployments into pods and pods into EndpointSlices, and each node's agent watches the API
 * server with its own ServiceAccount token and the RBAC of deploy/. Commands go through kubectl
 * with the lab's admin kubeconfig, as a user's would.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { AgentProcess } from './agent-process.js';
import { agentIdentity, ControlPlane } from './control-plane/index.js';
import type { ControlPlaneAction, ControlPlaneActionResult } from './control-plane-action.js';
import { nodeConvergence } from './convergence.js';
import { BUILT_IN_NAMESPACES, deletableKind, resourceName } from './applied-objects.js';
import type { RawDocument } from './documents.js';
import { LabError } from './errors.js';
import { execTargetIn } from './exec-target.js';
import type { HostEnv } from './host.js';
import { prepareLabHost, startAgents } from './infrastructure.js';
import { NodeAddresses, nodePodCidr } from './ipam.js';
import type { NodePlan } from './kind-config.js';
import { apiSettlement, type ApiLists } from './kubelet/api-settlement.js';
import { NodeHeartbeat } from './kubelet/node-heartbeat.js';
import { PodSync } from './kubelet/pod-sync.js';
import { ApiRest } from './kubelet/rest.js';
import type { LabPaths } from './layout.js';
import { hostsFile, resolvConf } from './hosts-file.js';
import { matchesLabels } from './selectors.js';
import type { PodRuntime } from './pod-runtime.js';
import type { Prober } from './prober.js';
import { refOf, type ProcessRef } from './processes.js';
import { newLabRecord, writeRecord, type LabRecord, type NodeRecord } from './record.js';
import { taintsOf } from './pod-scheduling.js';
import { agentStatus, waitUntilSettled } from './waiting.js';
import type { ExecTarget, LabStatus, NodeStatus, PodStatus, Settlement } from './status.js';
import { labStatus, podStatuses } from './status-views.js';
import { DEFAULT_WAIT_MS } from './supervisor.js';

export interface ApiSupervisorConfig {
  readonly host: HostEnv;
  readonly paths: LabPaths;
  readonly logger: Logger;
  readonly preferClose: 'subzone' | 'zone';
}

interface ApiNode {
  readonly plan: NodePlan;
  readonly record: NodeRecord;
  readonly addresses: NodeAddresses;
  agent?: AgentProcess;
}

/** The kinds whose items the agents' model reads, with the apiVersion a list leaves out. */
const MODEL_KINDS = [
  { path: '/api/v1/nodes', kind: 'Node', apiVersion: 'v1' },
  { path: '/api/v1/namespaces', kind: 'Namespace', apiVersion: 'v1' },
  { path: '/api/v1/services', kind: 'Service', apiVersion: 'v1' },
  { path: '/apis/discovery.k8s.io/v1/endpointslices', kind: 'EndpointSlice', apiVersion: 'discovery.k8s.io/v1' },
] as const;

export class ApiSupervisor {
  private readonly nodes = new Map<string, ApiNode>();
  private readonly record: LabRecord;
  private readonly logger: Logger;
  private readonly etcWritten = new Map<string, string>();
  /** Node labels as the API server last listed them (kubectl label changes them). */
  private nodeLabels = new Map<string, Record<string, string>>();
  private controlPlane: ControlPlane | undefined;
  private rest: ApiRest | undefined;
  private heartbeat: NodeHeartbeat | undefined;
  private pods: PodSync | undefined;
  private prober: Prober | undefined;
  private started = false;

  constructor(private readonly config: ApiSupervisorConfig) {
    const { paths, host } = config;
    this.logger = config.logger;
    this.record = { ...newLabRecord(paths, host, refOf(process.pid)), controlPlane: {} };
    this.saveRecord();
  }

  private saveRecord(): void {
    this.record.pods = (this.pods?.runtimes() ?? []).flatMap((p) => {
      const pl = p.placement;
      return pl ? [{ namespace: p.id.namespace, name: p.id.name, node: pl.node, ip: pl.ip, netns: pl.link.netns, cgroup: pl.cgroup, processes: p.processes() }] : [];
    });
    writeRecord(this.config.paths.record, this.record);
  }

  /** The admin kubeconfig users' kubectl reads; `lab up` prints its path. */
  get kubeconfig(): string {
    return join(this.config.paths.stateDir, 'kubeconfig');
  }

  async up(cluster: readonly NodePlan[], documents: readonly RawDocument[], namespace: string): Promise<string[]> {
    if (this.started) throw new LabError('conflict', `lab ${this.config.paths.name} is already up`);
    this.started = true;
    const { host, paths } = this.config;
    const hasWorkers = cluster.some((n) => n.role === 'worker');
    cluster.forEach((plan, index) => {
      const record: NodeRecord = { name: plan.name, role: plan.role, cgroup: join(paths.cgroupRoot, plan.name), pinRoot: join(paths.pinBase, plan.name), podCidr: nodePodCidr(index), agent: undefined };
      this.record.nodes.push(record);
      this.nodes.set(plan.name, { plan, record, addresses: new NodeAddresses(index) });
    });
    this.saveRecord();

    this.prober = await prepareLabHost(host, paths, (ref) => {
      this.record.prober = ref;
      this.saveRecord();
    });
    const controlPlane = await ControlPlane.start({
      dir: join(paths.stateDir, 'control-plane'),
      logDir: paths.logDir,
      logger: this.logger.child({ component: 'control-plane' }),
      onProcess: (component, ref) => {
        this.record.controlPlane = { ...this.record.controlPlane, [component]: ref };
        this.saveRecord();
      },
    });
    this.controlPlane = controlPlane;
    // A copy at a fixed path, so users and the demo can export KUBECONFIG=<state dir>/kubeconfig.
    writeFileSync(this.kubeconfig, readFileSync(controlPlane.adminKubeconfig), { mode: 0o600 });
    const kc = new KubeConfig();
    kc.loadFromFile(this.kubeconfig);
    this.rest = new ApiRest(kc);

    this.heartbeat = new NodeHeartbeat(
      this.rest,
      cluster.map((plan) => ({ name: plan.name, labels: plan.labels, taints: taintsOf(plan.role, hasWorkers), podCidr: this.nodes.get(plan.name)!.record.podCidr })),
      this.logger.child({ component: 'kubelet' }),
    );
    await this.heartbeat.register();
    const agentKubeconfig = await agentIdentity(controlPlane, { namespace: 'nearby-system', serviceAccount: 'nearby-agent' });

    this.pods = new PodSync({
      kc,
      rest: this.rest,
      lab: paths.name,
      nodes: new Map([...this.nodes].map(([name, n]) => [name, { cgroup: n.record.cgroup, addresses: n.addresses }])),
      context: { host, bridgeNetns: paths.bridgeNetns, cgroupRoot: paths.cgroupRoot, podLogDir: join(paths.logDir, 'pods'), prober: this.prober, logger: this.logger.child({ component: 'kubelet' }) },
      logger: this.logger.child({ component: 'kubelet' }),
      changed: () => this.podsChanged(),
      writeEtc: (pod) => this.writeEtc(pod),
    });
    await this.pods.start();

    const agentNodes = [...this.nodes.values()].map((node) => ({
      name: node.plan.name,
      cgroup: node.record.cgroup,
      onProcess: (ref: (ProcessRef & { port: number }) | undefined) => {
        node.record.agent = ref;
        this.saveRecord();
      },
    }));
    const agents = await startAgents(host, paths, agentNodes, { source: { kubeconfig: agentKubeconfig }, preferClose: this.config.preferClose, logger: this.logger.child({ component: 'agents' }) });
    for (const node of this.nodes.values()) node.agent = agents.get(node.plan.name);

    const lines: string[] = [`kubeconfig: ${this.kubeconfig}`];
    if (namespace && !BUILT_IN_NAMESPACES.includes(namespace)) {
      const created = await controlPlane.kubectl(['create', 'namespace', namespace]);
      if (created.code !== 0 && !/AlreadyExists/.test(created.stderr)) throw new LabError('invalid', `kubectl create namespace ${namespace}: ${created.stderr.trim()}`);
      lines.push(...created.stdout.trim().split('\n').filter(Boolean));
    }
    if (documents.length > 0) lines.push(...(await this.apply(documents, namespace)));
    return lines;
  }

  private assertUp(): ControlPlane {
    if (!this.started || !this.controlPlane) throw new LabError('conflict', `lab ${this.config.paths.name} is not up yet`);
    return this.controlPlane;
  }

  private async kubectl(args: string[], input?: string): Promise<string[]> {
    const result = await this.assertUp().kubectl(args, input);
    if (result.code !== 0) {
      const message = result.stderr.trim() || `kubectl ${args.join(' ')} exited with ${result.code}`;
      throw new LabError(/NotFound|not found/.test(message) ? 'not-found' : 'invalid', message);
    }
    return result.stdout.trim().split('\n').filter(Boolean);
  }

  async apply(documents: readonly RawDocument[], namespace: string): Promise<string[]> {
    if (documents.some((d) => d.object['kind'] === 'Cluster')) throw new LabError('usage', 'a kind Cluster document is read by lab up only');
    const list = { apiVersion: 'v1', kind: 'List', items: documents.map((d) => d.object) };
    return this.kubectl(['apply', ...(namespace ? ['-n', namespace] : []), '-f', '-'], JSON.stringify(list));
  }

  async delete(kindText: string, name: string, namespace: string): Promise<string[]> {
    const kind = deletableKind(kindText);
    return this.kubectl(['delete', resourceName(kind), name, ...(kind === 'Namespace' ? [] : ['-n', namespace]), '--wait=false']);
  }

  async label(node: string, changes: Readonly<Record<string, string | null>>, overwrite: boolean): Promise<string[]> {
    const args = Object.entries(changes).map(([k, v]) => (v === null ? `${k}-` : `${k}=${v}`));
    return this.kubectl(['label', 'node', node, ...args, ...(overwrite ? ['--overwrite'] : [])]);
  }

  private podsChanged(): void {
    this.saveRecord();
    for (const pod of this.pods?.runtimes() ?? []) this.writeEtc(pod);
  }

  private writeEtc(pod: PodRuntime): void {
    const placement = pod.placement;
    if (!placement || pod.terminating || !this.pods) return;
    const views = this.pods.views();
    const podIps = (service: { namespace: string; selector: Readonly<Record<string, string>> | undefined }): string[] =>
      views.flatMap((p) => (p.namespace === service.namespace && p.ip && service.selector && matchesLabels(service.selector, p.labels) ? [p.ip] : []));
    const addressing = { namespace: pod.id.namespace, hostname: pod.hostname, ip: placement.ip };
    const files = { hosts: hostsFile(addressing, this.pods.services(), podIps), resolv: resolvConf(pod.id.namespace) };
    if (this.etcWritten.get(pod.key) === files.hosts + files.resolv) return;
    pod.writeEtc(files.hosts, files.resolv);
    this.etcWritten.set(pod.key, files.hosts + files.resolv);
  }

  private async lists(): Promise<ApiLists & { model: unknown[] }> {
    const rest = this.rest!;
    const items = async (path: string): Promise<Record<string, unknown>[]> => (await rest.call<{ items: Record<string, unknown>[] }>('GET', path)).items;
    const [deployments, replicaSets, pods] = await Promise.all([items('/apis/apps/v1/deployments'), items('/apis/apps/v1/replicasets'), items('/api/v1/pods')]);
    const model = await Promise.all(MODEL_KINDS.map(async (k) => (await items(k.path)).map((o): Record<string, unknown> => ({ ...o, kind: k.kind, apiVersion: k.apiVersion }))));
    this.nodeLabels = new Map(model[0]!.map((n) => { const m = n['metadata'] as { name: string; labels?: Record<string, string> }; return [m.name, { ...(m.labels ?? {}) }]; }));
    return { deployments, replicaSets, pods: pods as never, services: model[2]!, endpointSlices: model[3]!, model: model.flat() };
  }

  async settlement(): Promise<Settlement> {
    this.assertUp();
    const waiting: string[] = [];
    for (const node of this.nodes.values()) if (!node.agent?.ready) waiting.push(`agent on ${node.plan.name}: ${node.agent?.reason ?? 'not started'}`);
    const lists = await this.lists();
    const api = apiSettlement(lists);
    waiting.push(...api.waiting);
    const problems = [...api.problems];
    for (const view of this.pods?.views() ?? []) {
      if (view.phase === 'Failed') problems.push(`pod ${view.namespace}/${view.name}: ${view.reason ?? 'Failed'}`);
      else if (view.restarts > 0 && !view.serving) problems.push(`pod ${view.namespace}/${view.name}: ${view.reason ?? 'restarting'}`);
    }
    if (waiting.length === 0 && problems.length === 0) {
      for (const node of this.nodes.values()) {
        const c = await nodeConvergence(lists.model, node.plan.name, node.record.pinRoot, this.config.preferClose);
        if (!c.converged) waiting.push(`datapath of ${node.plan.name} not yet as planned: ${c.difference ?? ''}`);
      }
    }
    return { done: waiting.length === 0 && problems.length === 0, waiting, problems };
  }

  async wait(timeoutMs = DEFAULT_WAIT_MS): Promise<Settlement> {
    return waitUntilSettled(() => this.settlement(), timeoutMs, 100);
  }

  status(): LabStatus {
    return labStatus({
      name: this.config.paths.name,
      stateDir: this.config.paths.stateDir,
      createdAt: this.record.createdAt,
      supervisorPid: process.pid,
      kubeconfig: this.kubeconfig,
      nodes: [...this.nodes.values()].map((n): NodeStatus => ({
        name: n.plan.name,
        role: n.plan.role,
        labels: this.nodeLabels.get(n.plan.name) ?? { ...n.plan.labels },
        podCidr: n.record.podCidr,
        cgroup: n.record.cgroup,
        pinRoot: n.record.pinRoot,
        agent: agentStatus(n.agent),
      })),
      pods: this.pods?.views() ?? [],
      services: this.pods?.services() ?? [],
    });
  }

  podStatuses(namespace?: string, selector?: string): PodStatus[] {
    return podStatuses(this.pods?.views() ?? [], namespace, selector);
  }

  execTarget(namespace: string, target: string, containerName?: string): ExecTarget {
    this.assertUp();
    return execTargetIn(this.pods?.runtimes() ?? [], namespace, target, containerName);
  }

  /**
   * An apiserver outage, its end, or an etcd compaction, on request. The pods, the agents and
   * the pinned datapath keep running through an outage; lab.json follows the apiserver's
   * process through the onProcess callback given to ControlPlane.start.
   */
  async controlPlaneAction(action: ControlPlaneAction): Promise<ControlPlaneActionResult> {
    const controlPlane = this.assertUp();
    const started = Date.now();
    this.logger.warn({ action }, 'control-plane action requested');
    switch (action) {
      case 'stop-apiserver':
        await controlPlane.stopApiServer();
        return { action, ms: Date.now() - started };
      case 'start-apiserver': {
        await controlPlane.startApiServer();
        const pid = controlPlane.refs()['kube-apiserver']?.pid;
        return { action, ms: Date.now() - started, ...(pid !== undefined ? { apiserverPid: pid } : {}) };
      }
      case 'compact-etcd': {
        const revision = await controlPlane.compactEtcd();
        return { action, ms: Date.now() - started, revision };
      }
    }
  }

  /** Ends every process the lab runs, the control plane last and in its safe order. */
  async shutdown(): Promise<void> {
    this.heartbeat?.stop();
    await Promise.all([this.pods?.stop(), ...[...this.nodes.values()].map((n) => n.agent?.stop(1000)), this.prober?.stop()]);
    await this.controlPlane?.stop();
  }
}
