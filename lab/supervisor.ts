/*
 * The lab's control loop, one per lab, in its own detached process: the kubelet of every node
 * (pods as processes, restarts, readiness), the scheduler, the Deployment and EndpointSlice
 * controllers, and the publisher of cluster/ for the agents. Changes are applied by serialized
 * passes of sync(); commands can then wait until every pod is ready and every node's pinned
 * datapath matches the plan for what was published.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { AgentProcess } from './agent-process.js';
import { createCgroup } from './cgroups.js';
import { prepareLabHost, startAgents } from './infrastructure.js';
import { nodeConvergence } from './convergence.js';
import { BUILT_IN_NAMESPACES, deletableKind, DesiredState, resourceName, type DeploymentEntry, type LabelledNode } from './applied-objects.js';
import type { RawDocument } from './documents.js';
import { LabError } from './errors.js';
import type { HostEnv } from './host.js';
import { NodeAddresses, nodePodCidr } from './ipam.js';
import type { NodePlan } from './kind-config.js';
import { podCgroupDirName, podNetnsName, type LabPaths } from './layout.js';
import { execTargetIn } from './exec-target.js';
import { readApplied, type Applied, type PodSpec } from './objects.js';
import { randomSuffix } from './pod-names.js';
import { PodRuntime, type PodContext, type PodIdentity } from './pod-runtime.js';
import type { Prober } from './prober.js';
import { refOf, type ProcessRef } from './processes.js';
import { ClusterFiles } from './cluster-files.js';
import { newLabRecord, writeRecord, type LabRecord, type NodeRecord } from './record.js';
import { schedule, taintsOf } from './pod-scheduling.js';
import { agentStatus, waitUntilSettled } from './waiting.js';
import type { ExecTarget, LabStatus, NodeStatus, PodStatus, Settlement } from './status.js';
import { labStatus, podStatuses } from './status-views.js';
import { isReady, type NodeView, type PodView, type ServiceView } from './views.js';

export interface SupervisorConfig {
  readonly host: HostEnv;
  readonly paths: LabPaths;
  readonly logger: Logger;
  readonly preferClose: 'subzone' | 'zone';
}

interface LabNode extends LabelledNode {
  readonly plan: NodePlan;
  readonly podCidr: string;
  readonly cgroup: string;
  readonly pinRoot: string;
  readonly addresses: NodeAddresses;
  readonly record: NodeRecord;
  agent?: AgentProcess;
}

export const DEFAULT_WAIT_MS = 30_000;

export class Supervisor {
  private readonly nodes = new Map<string, LabNode>();
  private readonly desired = new DesiredState(this.nodes);
  private readonly pods = new Map<string, PodRuntime>();
  /** The scheduling input of each pod, kept beside it until the pod is gone. */
  private readonly specs = new Map<PodRuntime, PodSpec>();
  private readonly etcWritten = new Map<string, string>();
  private readonly clusterFiles: ClusterFiles;
  private readonly record: LabRecord;
  private readonly logger: Logger;
  private prober: Prober | undefined;
  private podContext: PodContext | undefined;
  private published: readonly Record<string, unknown>[] = [];
  private podSeq = 0;
  private started = false;
  private stopping = false;
  private syncing: Promise<void> | undefined;
  private dirty = false;

  constructor(private readonly config: SupervisorConfig) {
    const { paths, host } = config;
    this.logger = config.logger;
    this.clusterFiles = new ClusterFiles(paths.clusterDir);
    this.record = newLabRecord(paths, host, refOf(process.pid));
    this.saveRecord();
  }

  private saveRecord(): void {
    this.record.pods = [...this.pods.values()].flatMap((p) => {
      const pl = p.placement;
      return pl ? [{ namespace: p.id.namespace, name: p.id.name, node: pl.node, ip: pl.ip, netns: pl.link.netns, cgroup: pl.cgroup, processes: p.processes() }] : [];
    });
    writeRecord(this.config.paths.record, this.record);
  }

  // ---- bring-up -------------------------------------------------------------------------

  async up(cluster: readonly NodePlan[], documents: readonly RawDocument[], namespace: string): Promise<string[]> {
    if (this.started) throw new LabError('conflict', `lab ${this.config.paths.name} is already up`);
    this.started = true;
    // -n of lab up names the namespace the manifests go to; it is created, as by kubectl create namespace.
    const implied = namespace && !BUILT_IN_NAMESPACES.includes(namespace) && !documents.some((d) => d.object['kind'] === 'Namespace' && (d.object['metadata'] as { name?: unknown } | undefined)?.name === namespace);
    const all: RawDocument[] = implied ? [{ origin: `-n ${namespace}`, object: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } } }, ...documents] : [...documents];
    // Checked before anything is built, so a bad manifest leaves nothing behind.
    const objects = all.map((d) => readApplied(d.object, d.origin, namespace));
    const { host, paths } = this.config;
    cluster.forEach((plan, index) => {
      const record: NodeRecord = {
        name: plan.name,
        role: plan.role,
        cgroup: join(paths.cgroupRoot, plan.name),
        pinRoot: join(paths.pinBase, plan.name),
        podCidr: nodePodCidr(index),
        agent: undefined,
      };
      this.record.nodes.push(record);
      this.nodes.set(plan.name, { plan, labels: { ...plan.labels }, podCidr: record.podCidr, cgroup: record.cgroup, pinRoot: record.pinRoot, addresses: new NodeAddresses(index), record });
    });
    const lines = this.desired.apply(objects);
    this.saveRecord();

    this.prober = await prepareLabHost(host, paths, (ref) => {
      this.record.prober = ref;
      this.saveRecord();
    });
    this.podContext = {
      host,
      bridgeNetns: paths.bridgeNetns,
      cgroupRoot: paths.cgroupRoot,
      podLogDir: join(paths.logDir, 'pods'),
      prober: this.prober,
      logger: this.logger.child({ component: 'kubelet' }),
      changed: () => void this.sync(),
    };
    for (const node of this.nodes.values()) createCgroup(paths.cgroupRoot, node.cgroup);
    // Nodes and namespaces are published before the agents start, so their first plan knows them.
    this.publish();
    const agentNodes = [...this.nodes.values()].map((node) => ({
      name: node.plan.name,
      cgroup: node.cgroup,
      onProcess: (ref: (ProcessRef & { port: number }) | undefined) => {
        node.record.agent = ref;
        this.saveRecord();
      },
    }));
    const agents = await startAgents(host, paths, agentNodes, { source: { stateDir: paths.clusterDir }, preferClose: this.config.preferClose, logger: this.logger.child({ component: 'agents' }) });
    for (const node of this.nodes.values()) node.agent = agents.get(node.plan.name);
    await this.sync();
    return lines;
  }

  // ---- the control loop -----------------------------------------------------------------

  /** Runs a pass now, or one more after the running one; resolves when it is done. */
  sync(): Promise<void> {
    this.dirty = true;
    this.syncing ??= (async () => {
      try {
        while (this.dirty && !this.stopping) {
          this.dirty = false;
          await this.syncOnce().catch((err: unknown) => this.logger.error({ err }, 'sync pass failed'));
        }
      } finally {
        this.syncing = undefined;
      }
    })();
    return this.syncing;
  }

  private livePods(): PodRuntime[] {
    return [...this.pods.values()].filter((p) => !p.terminating);
  }

  private async syncOnce(): Promise<void> {
    if (!this.podContext) return;
    const ending = new Set<PodRuntime>();
    for (const deployment of this.desired.deployments.values()) this.reconcileDeployment(deployment, ending);
    for (const pod of this.livePods()) {
      const owner = pod.id.owner;
      const wanted = owner ? this.desired.deployments.has(`${pod.id.namespace}/${owner.deployment}`) : this.desired.pods.has(pod.key);
      if (!wanted) ending.add(pod);
    }
    for (const [key, applied] of this.desired.pods) {
      const existing = this.pods.get(key);
      if (!existing) this.addPod(this.identity(applied.namespace, applied.name, applied.labels, applied.spec, applied.raw['spec']));
      else if (!existing.terminating) existing.id.labels = { ...applied.labels };
    }
    for (const pod of ending) pod.markTerminating();

    const starts = this.placePending().map((pod) => pod.start(pod.placement!, (p) => this.writeEtc(p)));
    this.saveRecord();
    await Promise.all(starts);
    this.publish();
    for (const pod of this.pods.values()) this.writeEtc(pod);
    this.saveRecord();
    for (const pod of ending) void this.endPod(pod);
  }

  private reconcileDeployment(deployment: DeploymentEntry, ending: Set<PodRuntime>): void {
    const { applied, hash } = deployment;
    const owned = this.livePods().filter((p) => p.id.namespace === applied.namespace && p.id.owner?.deployment === applied.name);
    const current = owned.filter((p) => p.id.templateHash === hash).sort((a, b) => a.id.createdAt.localeCompare(b.id.createdAt));
    for (const pod of owned) if (pod.id.templateHash !== hash) ending.add(pod);
    for (const pod of current.slice(applied.replicas)) ending.add(pod);
    for (let i = current.length; i < applied.replicas; i++) {
      const name = `${applied.name}-${hash}-${randomSuffix()}`;
      const id = this.identity(applied.namespace, name, applied.template.labels, applied.template.spec, (applied.template.raw['spec'] ?? {}) as Record<string, unknown>);
      this.addPod({ ...id, owner: { kind: 'ReplicaSet', name: `${applied.name}-${hash}`, deployment: applied.name }, templateHash: hash });
    }
  }

  private identity(namespace: string, name: string, labels: Readonly<Record<string, string>>, spec: PodSpec, rawSpec: unknown): PodIdentity & { spec: PodSpec } {
    return {
      namespace,
      name,
      uid: randomUUID(),
      labels: { ...labels },
      containers: spec.containers,
      rawSpec: (rawSpec ?? {}) as Record<string, unknown>,
      terminationGraceSeconds: spec.terminationGracePeriodSeconds ?? 30,
      createdAt: new Date().toISOString(),
      spec,
    };
  }

  private addPod(id: PodIdentity & { spec: PodSpec }): void {
    const { spec, ...identity } = id;
    const labels = identity.templateHash ? { ...identity.labels, 'pod-template-hash': identity.templateHash } : identity.labels;
    const pod = new PodRuntime({ ...identity, labels }, this.podContext!);
    this.pods.set(pod.key, pod);
    this.specs.set(pod, spec);
  }

  /** Schedules every unplaced pod, one at a time so each choice sees the previous ones. */
  private placePending(): PodRuntime[] {
    const placed: PodRuntime[] = [];
    const hasWorkers = [...this.nodes.values()].some((n) => n.plan.role === 'worker');
    for (const pod of this.livePods()) {
      if (pod.placement) continue;
      const spec = this.specs.get(pod);
      if (!spec) continue;
      const candidates = [...this.nodes.values()].map((n) => {
        const onNode = this.livePods().filter((p) => p.placement?.node === n.plan.name);
        return {
          name: n.plan.name,
          labels: n.labels,
          taints: taintsOf(n.plan.role, hasWorkers),
          pods: onNode.length,
          siblings: onNode.filter((p) => p.id.owner && p.id.owner.deployment === pod.id.owner?.deployment && p.id.namespace === pod.id.namespace).length,
        };
      });
      const choice = schedule(spec, candidates);
      if ('unschedulable' in choice) {
        pod.reason = `Unschedulable: ${choice.unschedulable}`;
        continue;
      }
      const node = this.nodes.get(choice.node)!;
      const ip = node.addresses.allocate();
      const netns = podNetnsName(this.config.paths.name, pod.id.namespace, pod.id.name);
      pod.reason = undefined;
      pod.placement = {
        node: node.plan.name,
        ip,
        link: { netns, hostDevice: `vp${++this.podSeq}`, ip },
        cgroup: join(node.cgroup, podCgroupDirName(pod.id.namespace, pod.id.name)),
      };
      placed.push(pod);
    }
    return placed;
  }

  private async endPod(pod: PodRuntime): Promise<void> {
    await pod.finishTermination().catch((err: unknown) => this.logger.error({ err, pod: pod.key }, 'pod termination failed'));
    const placement = pod.placement;
    if (placement) this.nodes.get(placement.node)?.addresses.release(placement.ip);
    if (this.pods.get(pod.key) === pod) this.pods.delete(pod.key);
    this.specs.delete(pod);
    this.etcWritten.delete(pod.key);
    this.saveRecord();
    void this.sync();
  }

  // ---- publishing -----------------------------------------------------------------------

  private nodeViews(): NodeView[] {
    const hasWorkers = [...this.nodes.values()].some((n) => n.plan.role === 'worker');
    return [...this.nodes.values()].map((n) => ({ name: n.plan.name, role: n.plan.role, labels: { ...n.labels }, podCidr: n.podCidr, taints: taintsOf(n.plan.role, hasWorkers) }));
  }

  private serviceViews(): ServiceView[] {
    return [...this.desired.services.values()].map(({ applied, clusterIP }) => ({
      namespace: applied.namespace,
      name: applied.name,
      raw: applied.raw,
      clusterIP,
      selector: applied.selector,
      ports: applied.ports,
    }));
  }

  private podViews(): PodView[] {
    return [...this.pods.values()].map((p) => p.view());
  }

  private publish(): void {
    this.published = this.clusterFiles.publish(this.nodeViews(), [...this.desired.namespaces.entries()].map(([name, raw]) => ({ name, raw })), this.serviceViews(), this.podViews());
  }

  private writeEtc(pod: PodRuntime): void {
    const placement = pod.placement;
    if (!placement || pod.terminating) return;
    const files = this.clusterFiles.etcFiles({ namespace: pod.id.namespace, hostname: pod.hostname, ip: placement.ip }, this.serviceViews(), this.podViews());
    if (this.etcWritten.get(pod.key) === files.hosts + files.resolv) return;
    pod.writeEtc(files.hosts, files.resolv);
    this.etcWritten.set(pod.key, files.hosts + files.resolv);
  }

  // ---- waiting --------------------------------------------------------------------------

  async settlement(): Promise<Settlement> {
    const waiting: string[] = [];
    const problems: string[] = [];
    if (this.syncing || this.dirty) waiting.push('applying changes');
    for (const node of this.nodes.values()) {
      if (!node.agent?.ready) waiting.push(`agent on ${node.plan.name}: ${node.agent?.reason ?? 'not started'}`);
    }
    for (const { applied, hash } of this.desired.deployments.values()) {
      const have = this.livePods().filter((p) => p.id.namespace === applied.namespace && p.id.owner?.deployment === applied.name && p.id.templateHash === hash).length;
      if (have < applied.replicas) waiting.push(`deployment ${applied.namespace}/${applied.name}: ${have}/${applied.replicas} pods`);
    }
    for (const pod of this.pods.values()) {
      const view = pod.view();
      if (pod.terminating) waiting.push(`pod ${pod.key}: terminating`);
      else if (view.reason?.startsWith('Unschedulable') || view.phase === 'Failed') problems.push(`pod ${pod.key}: ${view.reason ?? view.phase}`);
      else if (view.restarts > 0 && !view.serving) problems.push(`pod ${pod.key}: ${view.reason ?? 'restarting'}`);
      else if (!isReady(view)) waiting.push(`pod ${pod.key}: not ready`);
    }
    if (waiting.length === 0 && problems.length === 0) {
      for (const node of this.nodes.values()) {
        const c = await nodeConvergence(this.published, node.plan.name, node.pinRoot, this.config.preferClose);
        if (!c.converged) waiting.push(`datapath of ${node.plan.name} not yet as planned: ${c.difference ?? ''}`);
      }
    }
    return { done: waiting.length === 0 && problems.length === 0, waiting, problems };
  }

  /** Until every pod is ready and every node converged; throws on a stuck pod or at the deadline. */
  async wait(timeoutMs = DEFAULT_WAIT_MS): Promise<Settlement> {
    return waitUntilSettled(() => this.settlement(), timeoutMs, 50);
  }

  // ---- commands -------------------------------------------------------------------------

  private assertUp(): void {
    if (!this.started || !this.podContext) throw new LabError('conflict', `lab ${this.config.paths.name} is not up yet`);
  }

  async apply(documents: readonly RawDocument[], namespace: string): Promise<string[]> {
    this.assertUp();
    const objects: Applied[] = documents.map((d) => readApplied(d.object, d.origin, namespace));
    if (documents.some((d) => d.object['kind'] === 'Cluster')) throw new LabError('usage', 'a kind Cluster document is read by lab up only');
    const lines = this.desired.apply(objects);
    await this.sync();
    return lines;
  }

  async delete(kindText: string, name: string, namespace: string): Promise<string[]> {
    this.assertUp();
    const kind = deletableKind(kindText);
    if (kind !== 'Pod') {
      const line = this.desired.delete(kind, name, namespace);
      await this.sync();
      return [line];
    }
    const key = `${namespace}/${name}`;
    const pod = this.pods.get(key);
    const bare = this.desired.pods.delete(key);
    if (!pod && !bare) throw new LabError('not-found', `pods "${name}" not found in namespace "${namespace}"`);
    // A Deployment's pod is replaced by a new one, as a ReplicaSet would.
    if (pod && !pod.terminating) {
      pod.markTerminating();
      void this.endPod(pod);
    }
    await this.sync();
    return [`${resourceName('Pod')} "${name}" deleted`];
  }

  async label(node: string, changes: Readonly<Record<string, string | null>>, overwrite: boolean): Promise<string[]> {
    this.assertUp();
    const line = this.desired.label(node, changes, overwrite);
    await this.sync();
    return [line];
  }

  status(): LabStatus {
    return labStatus({
      name: this.config.paths.name,
      stateDir: this.config.paths.stateDir,
      createdAt: this.record.createdAt,
      supervisorPid: process.pid,
      nodes: [...this.nodes.values()].map((n): NodeStatus => ({
        name: n.plan.name,
        role: n.plan.role,
        labels: { ...n.labels },
        podCidr: n.podCidr,
        cgroup: n.cgroup,
        pinRoot: n.pinRoot,
        agent: agentStatus(n.agent),
      })),
      pods: this.podViews(),
      services: this.serviceViews(),
    });
  }

  podStatuses(namespace?: string, selector?: string): PodStatus[] {
    return podStatuses(this.podViews(), namespace, selector);
  }

  /** `POD`, `pod/POD` or `deployment/NAME` (a ready pod of it, as kubectl exec picks one). */
  execTarget(namespace: string, target: string, containerName?: string): ExecTarget {
    this.assertUp();
    return execTargetIn([...this.pods.values()], namespace, target, containerName);
  }

  /** Ends every process the lab runs; `lab down` removes the rest. */
  async shutdown(): Promise<void> {
    this.stopping = true;
    await Promise.all([
      ...[...this.pods.values()].map((pod) => pod.kill()),
      ...[...this.nodes.values()].map((n) => n.agent?.stop(1000)),
      this.prober?.stop(),
    ]);
  }
}
