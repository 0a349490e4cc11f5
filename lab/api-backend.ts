/*
 * The lab on a real control plane, the backend of `lab up --control-plane`: etcd, kube-apiserver,
 * kube-controller-manager and kube-scheduler run as processes of the lab, and the supervisor is
 * only the kubelet of the lab's nodes (lab/kubelet). The scheduler places pods, the
 * controller-manager turns Deployments into pods and pods into EndpointSlices, and each node's
 * agent watches the API server with its own ServiceAccount token and the RBAC of deploy/.
 * Commands go through kubectl with the lab's admin kubeconfig, as a user's would.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { WATCHED_KINDS, type WatchedKind } from '../pkg/model/index.js';
import { clusterDnsList, withoutClusterDns } from './addons/index.js';
import type { AgentSource, LabAgents } from './agent-process.js';
import { BUILT_IN_NAMESPACES, deletableKind, resourceName } from './applied-objects.js';
import type { BackendContext, ClusterBackend, ClusterObservation } from './cluster-backend.js';
import { agentIdentity, ControlPlane } from './control-plane/index.js';
import type { ControlPlaneAction, ControlPlaneActionResult } from './control-plane-action.js';
import type { RawDocument } from './documents.js';
import { LabError } from './errors.js';
import { apiSettlement, type ApiLists } from './kubelet/api-settlement.js';
import { NodeHeartbeat } from './kubelet/node-heartbeat.js';
import { PodSync } from './kubelet/pod-sync.js';
import { agentEndpointSlice, LabPrometheus } from './prometheus/index.js';
import { listOptionalKinds } from './kubelet/optional-kinds.js';
import { RemoteLists } from './kubelet/remote-lists.js';
import { ApiRest } from './kubelet/rest.js';
import { clusterDnsAddress, type LabNetwork } from './ipam.js';
import type { NodePlan } from './kind-config.js';
import { adminKubeconfigPath, prometheusUrlFile, type LabPaths } from './layout.js';
import { PROJECT_ROOT } from './programs.js';
import type { Labels } from './objects.js';
import type { PodRuntime } from './pod-runtime.js';
import { taintsOf } from './pod-scheduling.js';
import type { RealNodes } from './real-node/index.js';
import { startRealNodes } from './real-node-backend.js';
import type { PodView, ServiceView } from './views.js';

const CRD_KIND = 'CustomResourceDefinition';
const METRICS_SERVICE = join(PROJECT_ROOT, 'deploy/metrics-service.yaml');
const CRD_ESTABLISHED_S = 30;

export class ApiClusterBackend implements ClusterBackend {
  readonly runsControlPlane = true;
  readonly pollMs = 100;
  /** Node labels as the API server last listed them (kubectl label changes them). */
  private listedLabels = new Map<string, Record<string, string>>();
  private context: BackendContext | undefined;
  private controlPlane: ControlPlane | undefined;
  private rest: ApiRest | undefined;
  private heartbeat: NodeHeartbeat | undefined;
  private pods: PodSync | undefined;
  private crds: readonly RawDocument[] = [];
  private readonly remotes: RemoteLists | undefined;
  private prometheus: LabPrometheus | undefined;
  /** With --real-nodes: the nodes' kubelets and containerds, in place of the lab's own kubelet. */
  private realNodes: RealNodes | undefined;

  constructor(
    private readonly paths: LabPaths,
    private readonly logger: Logger,
    /** One cluster of a lab set, by name: its agents read the others through remote secrets. */
    private readonly options: {
      readonly clusterName?: string;
      readonly prometheus?: boolean;
      readonly realNodes?: boolean;
      readonly agents?: LabAgents;
    } = {},
  ) {
    this.remotes = options.clusterName ? new RemoteLists(logger.child({ component: 'remote-lists' })) : undefined;
  }

  /** The admin kubeconfig users' kubectl reads; `lab up` prints its path. */
  get kubeconfig(): string {
    return adminKubeconfigPath(this.paths.stateDir);
  }

  /**
   * The API server checks what is applied, once it runs. CustomResourceDefinitions among the
   * first manifests are kept apart: start() creates them before the agents start, as a cluster's
   * CRDs usually predate its DaemonSets, so the agents' first discovery finds them served.
   */
  accept(_cluster: readonly NodePlan[], _network: LabNetwork, documents: readonly RawDocument[]): string[] {
    this.crds = documents.filter((d) => d.object['kind'] === CRD_KIND);
    return [];
  }

  async start(context: BackendContext): Promise<AgentSource | undefined> {
    this.context = context;
    const { paths } = this;
    const controlPlane = await ControlPlane.start({
      dir: join(paths.stateDir, 'control-plane'),
      serviceCidr: context.network.serviceSubnet,
      ...(context.apiServer ? { address: context.apiServer } : {}),
      logDir: paths.logDir,
      logger: this.logger.child({ component: 'control-plane' }),
      onProcess: (component, ref) => context.record.setControlPlaneProcess(component, ref),
    });
    this.controlPlane = controlPlane;
    // A copy at a fixed path, so users and the demo can export KUBECONFIG=<state dir>/kubeconfig.
    writeFileSync(this.kubeconfig, readFileSync(controlPlane.adminKubeconfig), { mode: 0o600 });
    const kc = new KubeConfig();
    kc.loadFromFile(this.kubeconfig);
    this.rest = new ApiRest(kc);

    if (this.options.realNodes) {
      this.realNodes = await startRealNodes({
        host: context.pods.host,
        paths,
        network: context.network,
        nodes: context.nodes,
        record: context.record,
        controlPlane,
        server: controlPlane.server,
        ...(context.apiServer ? { apiServer: context.apiServer } : {}),
        rest: this.rest,
        kubectl: (args) => this.kubectl(args),
        logger: this.logger.child({ component: 'real-nodes' }),
      });
    }
    const nodes = [...context.nodes.values()];
    const hasWorkers = nodes.some((n) => n.plan.role === 'worker');
    if (!this.options.realNodes)
      this.heartbeat = new NodeHeartbeat(
        this.rest,
        nodes.map(({ plan, record }) => ({
          name: plan.name,
          labels: plan.labels,
          taints: taintsOf(plan.role, hasWorkers),
          podCidr: record.podCidr,
        })),
        this.logger.child({ component: 'kubelet' }),
      );
    await this.heartbeat?.register();
    // The DaemonSet's install brings its own namespace, ServiceAccount and RBAC: the lab's copies
    // of deploy/'s would make `helm install` refuse them as objects it does not own.
    const agentKubeconfig =
      this.options.agents === 'daemonset'
        ? undefined
        : await agentIdentity(controlPlane, {
            namespace: 'nearby-system',
            serviceAccount: 'nearby-agent',
            ...(this.options.clusterName ? { multiCluster: true } : {}),
          });

    if (!this.options.realNodes)
      this.pods = new PodSync({
        kc,
        rest: this.rest,
        lab: paths.name,
        nodes: new Map(nodes.map((n) => [n.plan.name, { cgroup: n.record.cgroup, addresses: n.addresses }])),
        context: context.pods,
        logger: this.logger.child({ component: 'kubelet' }),
        changed: () => this.podsChanged(),
        writeEtc: (pod) => this.writeEtc(pod),
      });
    await this.pods?.start();
    await this.createCrds();
    // Before the agents start, so each one's EndpointSlice has its Service.
    if (this.options.prometheus) await this.kubectl(['apply', '-f', METRICS_SERVICE]);
    return agentKubeconfig ? { kubeconfig: agentKubeconfig } : undefined;
  }

  private async createCrds(): Promise<void> {
    if (this.crds.length === 0) return;
    await this.apply(this.crds, '');
    const names = this.crds.map((d) => `crd/${String((d.object['metadata'] as { name?: unknown } | undefined)?.name)}`);
    await this.kubectl(['wait', '--for=condition=Established', `--timeout=${CRD_ESTABLISHED_S}s`, ...names]);
  }

  async populate(documents: readonly RawDocument[], namespace: string): Promise<string[]> {
    const lines: string[] = [`kubeconfig: ${this.kubeconfig}`];
    // Real kubelets point pods at kube-dns (clusterDNS): the add-on comes before any workload, and
    // its Deployment is part of what lab up waits for, as kubeadm clusters have it from the start.
    if (this.options.realNodes && this.context)
      lines.push(...(await this.kubectl(['apply', '-f', '-'], clusterDnsList(clusterDnsAddress(this.context.network.serviceSubnet)))));
    if (namespace && !BUILT_IN_NAMESPACES.includes(namespace)) {
      const created = await this.assertUp().kubectl(['create', 'namespace', namespace]);
      if (created.code !== 0 && !created.stderr.includes('AlreadyExists'))
        throw new LabError('invalid', `kubectl create namespace ${namespace}: ${created.stderr.trim()}`);
      lines.push(...created.stdout.trim().split('\n').filter(Boolean));
    }
    if (documents.length > 0) lines.push(...(await this.apply(documents, namespace)));
    if (this.options.prometheus) lines.push(`prometheus: ${await this.startPrometheus()}`);
    return lines;
  }

  private assertUp(): ControlPlane {
    if (!this.controlPlane) throw new LabError('conflict', `lab ${this.paths.name} is not up yet`);
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
    if (documents.some((d) => d.object['kind'] === 'Cluster'))
      throw new LabError('usage', 'a kind Cluster document is read by lab up only');
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
    this.context?.record.save();
    for (const pod of this.runtimes()) this.writeEtc(pod);
  }

  private writeEtc(pod: PodRuntime): void {
    if (this.pods) this.context?.etc.write(pod, this.pods.services(), this.pods.views());
  }

  private async lists(): Promise<ApiLists & { model: unknown[] }> {
    const rest = this.rest!;
    const items = async (path: string): Promise<Array<Record<string, unknown>>> =>
      (await rest.call<{ items: Array<Record<string, unknown>> }>('GET', path)).items;
    const [deployments, replicaSets, pods] = await Promise.all([
      items('/apis/apps/v1/deployments'),
      items('/apis/apps/v1/replicasets'),
      items('/api/v1/pods'),
    ]);
    // The agents' own table of kinds, so the lab settles on exactly what the agents watch.
    const listed = await Promise.all(
      WATCHED_KINDS.map(
        async (k) =>
          [k.kind, (await items(k.path)).map((o): Record<string, unknown> => ({ ...o, kind: k.kind, apiVersion: k.apiVersion }))] as const,
      ),
    );
    // Optional kinds (a DestinationRule CRD) too, when served, as the agents watch them.
    const optional = await listOptionalKinds((path) => rest.call('GET', path));
    const all: ReadonlyArray<readonly [WatchedKind, Array<Record<string, unknown>>]> = [...listed, ...optional];
    const byKind = new Map<WatchedKind, Array<Record<string, unknown>>>(all);
    const ofKind = (kind: WatchedKind): Array<Record<string, unknown>> => byKind.get(kind) ?? [];
    this.listedLabels = new Map(
      ofKind('Node').map((n) => {
        const m = n['metadata'] as { name: string; labels?: Record<string, string> };
        return [m.name, { ...(m.labels ?? {}) }];
      }),
    );
    return {
      deployments,
      replicaSets,
      pods: pods as never,
      services: ofKind('Service'),
      endpointSlices: ofKind('EndpointSlice'),
      model: all.flatMap(([, objects]) => objects),
    };
  }

  async observe(): Promise<ClusterObservation> {
    this.assertUp();
    const lists = await this.lists();
    // No ClusterIP is served before the user installs nearby's DaemonSet: CoreDNS waits for it, not lab up.
    const api = apiSettlement(this.options.agents === 'daemonset' ? withoutClusterDns(lists) : lists);
    const problems = [...api.problems];
    for (const view of this.podViews()) {
      if (view.phase === 'Failed') problems.push(`pod ${view.namespace}/${view.name}: ${view.reason ?? 'Failed'}`);
      else if (view.restarts > 0 && !view.serving) problems.push(`pod ${view.namespace}/${view.name}: ${view.reason ?? 'restarting'}`);
    }
    // The agents of a lab set also program what they read from the other clusters.
    const remote = this.remotes ? await this.remotes.list(this.rest!) : [];
    return { applying: false, waiting: api.waiting, problems, objects: [...lists.model, ...remote] };
  }

  runtimes(): PodRuntime[] {
    return this.pods?.runtimes() ?? [];
  }

  podViews(): PodView[] {
    return this.pods?.views() ?? [];
  }

  serviceViews(): ServiceView[] {
    return this.pods?.services() ?? [];
  }

  nodeLabels(node: string): Labels | undefined {
    return this.listedLabels.get(node);
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

  /** Keeps the agent's EndpointSlice (lab/prometheus/agent-endpoints.ts) on the port it listens on now. */
  agentListening(node: string, podCidr: string, port: number | undefined): void {
    if (!this.options.prometheus || port === undefined || !this.controlPlane) return;
    const slice = JSON.stringify(agentEndpointSlice(node, podCidr, port));
    this.kubectl(['apply', '-f', '-'], slice).catch((err: unknown) =>
      this.logger.error({ err, node, port }, 'publishing the agent to Prometheus failed'),
    );
  }

  /** Starts the lab's Prometheus and writes its URL where clients find it (prometheusUrlFile). */
  private async startPrometheus(): Promise<string> {
    const dir = join(this.paths.stateDir, 'prometheus');
    this.prometheus = await LabPrometheus.start({
      dir,
      logFile: join(this.paths.logDir, 'prometheus.log'),
      kubeconfig: this.kubeconfig,
      logger: this.logger.child({ component: 'prometheus' }),
      onProcess: (ref) => this.context?.record.setControlPlaneProcess('prometheus', ref),
    });
    writeFileSync(prometheusUrlFile(this.paths.stateDir), this.prometheus.url);
    return this.prometheus.url;
  }

  /** Ends every process the lab runs, the control plane last and in its safe order. */
  async stop(endNodeProcesses: () => Promise<void>): Promise<void> {
    this.heartbeat?.stop();
    await this.realNodes?.stop();
    await Promise.all([this.pods?.stop(), endNodeProcesses(), this.prometheus?.stop()]);
    await this.controlPlane?.stop();
  }
}
