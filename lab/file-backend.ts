/*
 * The lab's own cluster, the backend of a lab without --control-plane: the kubelet of every node
 * (pods as processes, restarts, readiness), the scheduler, the Deployment and EndpointSlice
 * controllers, and the publisher of cluster/ for the agents' FileSource. Changes are applied by
 * serialized passes of sync(); the supervisor then waits until every pod is ready and every
 * node's pinned datapath matches the plan for what was published.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { AgentSource } from './agent-process.js';
import {
  AppliedObjects,
  BUILT_IN_NAMESPACES,
  deletableKind,
  resourceName,
  type DeploymentEntry,
  type LabelledNode,
} from './applied-objects.js';
import type { BackendContext, ClusterBackend, ClusterObservation, LabNode } from './cluster-backend.js';
import { ClusterFiles } from './cluster-files.js';
import type { ControlPlaneAction, ControlPlaneActionResult } from './control-plane-action.js';
import type { RawDocument } from './documents.js';
import { LabError } from './errors.js';
import type { LabNetwork } from './ipam.js';
import type { NodePlan } from './kind-config.js';
import { podCgroupDirName, podNetnsName, type LabPaths } from './layout.js';
import { readApplied, type Applied, type Labels, type PodSpec } from './objects.js';
import { randomSuffix } from './pod-names.js';
import { PodRuntime, type PodContext, type PodIdentity } from './pod-runtime.js';
import { schedule, taintsOf } from './pod-scheduling.js';
import { SerialPasses } from './serial-passes.js';
import { isReady, type NodeView, type PodView, type ServiceView } from './views.js';

export class FileClusterBackend implements ClusterBackend {
  readonly runsControlPlane = false;
  readonly pollMs = 50;
  readonly kubeconfig = undefined;
  /** The nodes' labels as applied (`lab label` changes them). */
  private readonly labelled = new Map<string, LabelledNode>();
  /** Made anew by accept(), with the cluster's Service subnet. */
  private desired = new AppliedObjects(this.labelled);
  private readonly pods = new Map<string, PodRuntime>();
  /** The scheduling input of each pod, kept beside it until the pod is gone. */
  private readonly specs = new Map<PodRuntime, PodSpec>();
  private readonly clusterFiles: ClusterFiles;
  private context: BackendContext | undefined;
  private podContext: PodContext | undefined;
  private published: ReadonlyArray<Record<string, unknown>> = [];
  private podSeq = 0;
  private readonly passes = new SerialPasses(
    () => this.syncOnce(),
    (err: unknown) => this.logger.error({ err }, 'sync pass failed'),
  );

  constructor(
    private readonly paths: LabPaths,
    private readonly logger: Logger,
  ) {
    this.clusterFiles = new ClusterFiles(paths.clusterDir);
  }

  private get nodes(): ReadonlyMap<string, LabNode> {
    return this.context?.nodes ?? new Map();
  }

  private saveRecord(): void {
    this.context?.record.save();
  }

  // ---- bring-up -------------------------------------------------------------------------

  accept(cluster: readonly NodePlan[], network: LabNetwork, documents: readonly RawDocument[], namespace: string): string[] {
    // -n of lab up names the namespace the manifests go to; it is created, as by kubectl create namespace.
    const implied =
      namespace &&
      !BUILT_IN_NAMESPACES.includes(namespace) &&
      !documents.some(
        (d) => d.object['kind'] === 'Namespace' && (d.object['metadata'] as { name?: unknown } | undefined)?.name === namespace,
      );
    const all: RawDocument[] = implied
      ? [{ origin: `-n ${namespace}`, object: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } } }, ...documents]
      : [...documents];
    // Checked before anything is built, so a bad manifest leaves nothing behind.
    const objects = all.map((d) => readApplied(d.object, d.origin, namespace));
    for (const plan of cluster) this.labelled.set(plan.name, { labels: { ...plan.labels } });
    this.desired = new AppliedObjects(this.labelled, network.serviceSubnet);
    return this.desired.apply(objects);
  }

  // eslint-disable-next-line @typescript-eslint/require-await -- async: a failed publish() must be a rejection, as in the API backend
  async start(context: BackendContext): Promise<AgentSource> {
    this.context = context;
    this.podContext = { ...context.pods, changed: () => void this.sync() };
    // Nodes and namespaces are published before the agents start, so their first plan knows them.
    this.publish();
    return { stateDir: this.paths.clusterDir };
  }

  async populate(): Promise<string[]> {
    await this.sync();
    return [];
  }

  // ---- the control loop -----------------------------------------------------------------

  /** Runs a pass now, or one more after the running one; resolves when it is done. */
  sync(): Promise<void> {
    return this.passes.request();
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
      const id = this.identity(applied.namespace, name, applied.template.labels, applied.template.spec, applied.template.raw['spec'] ?? {});
      this.addPod({ ...id, owner: { kind: 'ReplicaSet', name: `${applied.name}-${hash}`, deployment: applied.name }, templateHash: hash });
    }
  }

  private identity(
    namespace: string,
    name: string,
    labels: Readonly<Record<string, string>>,
    spec: PodSpec,
    rawSpec: unknown,
  ): PodIdentity & { spec: PodSpec } {
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
          labels: this.labelsOf(n),
          taints: taintsOf(n.plan.role, hasWorkers),
          pods: onNode.length,
          siblings: onNode.filter(
            (p) => p.id.owner && p.id.owner.deployment === pod.id.owner?.deployment && p.id.namespace === pod.id.namespace,
          ).length,
        };
      });
      const choice = schedule(spec, candidates);
      if ('unschedulable' in choice) {
        pod.reason = `Unschedulable: ${choice.unschedulable}`;
        continue;
      }
      const node = this.nodes.get(choice.node)!;
      const ip = node.addresses.allocate();
      const netns = podNetnsName(this.paths.name, pod.id.namespace, pod.id.name);
      pod.reason = undefined;
      pod.placement = {
        node: node.plan.name,
        ip,
        link: { netns, hostDevice: `vp${++this.podSeq}`, ip },
        cgroup: join(node.record.cgroup, podCgroupDirName(pod.id.namespace, pod.id.name)),
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
    this.context?.etc.forget(pod);
    this.saveRecord();
    void this.sync();
  }

  // ---- publishing -----------------------------------------------------------------------

  private labelsOf(node: LabNode): Record<string, string> {
    return this.labelled.get(node.plan.name)?.labels ?? { ...node.plan.labels };
  }

  nodeLabels(node: string): Labels | undefined {
    return this.labelled.get(node)?.labels;
  }

  private nodeViews(): NodeView[] {
    const hasWorkers = [...this.nodes.values()].some((n) => n.plan.role === 'worker');
    return [...this.nodes.values()].map((n) => ({
      name: n.plan.name,
      role: n.plan.role,
      labels: { ...this.labelsOf(n) },
      podCidr: n.record.podCidr,
      taints: taintsOf(n.plan.role, hasWorkers),
    }));
  }

  serviceViews(): ServiceView[] {
    return [...this.desired.services.values()].map(({ applied, clusterIP }) => ({
      namespace: applied.namespace,
      name: applied.name,
      raw: applied.raw,
      clusterIP,
      selector: applied.selector,
      ports: applied.ports,
    }));
  }

  podViews(): PodView[] {
    return [...this.pods.values()].map((p) => p.view());
  }

  private publish(): void {
    this.published = this.clusterFiles.publish(
      this.nodeViews(),
      [...this.desired.namespaces.entries()].map(([name, raw]) => ({ name, raw })),
      this.serviceViews(),
      this.podViews(),
    );
  }

  private writeEtc(pod: PodRuntime): void {
    this.context?.etc.write(pod, this.serviceViews(), this.podViews());
  }

  // ---- waiting --------------------------------------------------------------------------

  observe(): Promise<ClusterObservation> {
    const waiting: string[] = [];
    const problems: string[] = [];
    for (const { applied, hash } of this.desired.deployments.values()) {
      const have = this.livePods().filter(
        (p) => p.id.namespace === applied.namespace && p.id.owner?.deployment === applied.name && p.id.templateHash === hash,
      ).length;
      if (have < applied.replicas) waiting.push(`deployment ${applied.namespace}/${applied.name}: ${have}/${applied.replicas} pods`);
    }
    for (const pod of this.pods.values()) {
      const view = pod.view();
      if (pod.terminating) waiting.push(`pod ${pod.key}: terminating`);
      else if (view.reason?.startsWith('Unschedulable') || view.phase === 'Failed')
        problems.push(`pod ${pod.key}: ${view.reason ?? view.phase}`);
      else if (view.restarts > 0 && !view.serving) problems.push(`pod ${pod.key}: ${view.reason ?? 'restarting'}`);
      else if (!isReady(view)) waiting.push(`pod ${pod.key}: not ready`);
    }
    return Promise.resolve({ applying: this.passes.busy, waiting, problems, objects: this.published });
  }

  // ---- commands -------------------------------------------------------------------------

  async apply(documents: readonly RawDocument[], namespace: string): Promise<string[]> {
    const objects: Applied[] = documents.map((d) => readApplied(d.object, d.origin, namespace));
    if (documents.some((d) => d.object['kind'] === 'Cluster'))
      throw new LabError('usage', 'a kind Cluster document is read by lab up only');
    const lines = this.desired.apply(objects);
    await this.sync();
    return lines;
  }

  async delete(kindText: string, name: string, namespace: string): Promise<string[]> {
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
    const line = this.desired.label(node, changes, overwrite);
    await this.sync();
    return [line];
  }

  runtimes(): PodRuntime[] {
    return [...this.pods.values()];
  }

  controlPlaneAction(action: ControlPlaneAction): Promise<ControlPlaneActionResult> {
    return Promise.reject(
      new LabError(
        'usage',
        `control-plane ${action}: lab ${this.paths.name} has no real control plane (it was brought up without --control-plane)`,
      ),
    );
  }

  async stop(endNodeProcesses: () => Promise<void>): Promise<void> {
    this.passes.stop();
    await Promise.all([...[...this.pods.values()].map((pod) => pod.kill()), endNodeProcesses()]);
  }
}
