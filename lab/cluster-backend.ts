/*
 * What differs between the two ways a lab runs its cluster, behind one interface: the lab's own
 * controllers publishing files for FileSource agents (file-backend.ts), or a real control plane
 * whose kubelet the lab is (api-backend.ts). Everything else a supervisor does (nodes, agents,
 * the prober, lab.json, settlement, status, exec) is supervisor.ts, once for both.
 */
import type { Logger } from 'pino';
import type { AgentProcess, AgentSource, LabAgents, LabMapSizes } from './agent-process.js';
import type { ControlPlaneAction, ControlPlaneActionResult } from './control-plane-action.js';
import type { RawDocument } from './documents.js';
import type { HostEnv } from './host.js';
import type { LabNetwork, NodeAddresses } from './ipam.js';
import type { NodePlan } from './kind-config.js';
import type { LabPaths } from './layout.js';
import type { Labels } from './objects.js';
import type { PodEtcFiles } from './pod-etc.js';
import type { PodContext, PodRuntime } from './pod-runtime.js';
import type { LabRecordFile, NodeRecord } from './record.js';
import type { PodView, ServiceView } from './views.js';

export interface SupervisorConfig {
  readonly host: HostEnv;
  readonly paths: LabPaths;
  readonly logger: Logger;
  readonly preferClose: 'subzone' | 'zone';
  /** The agents' map sizes: LAB_MAP_SIZES unless a test asks for others. */
  readonly mapSizes: LabMapSizes;
  /** 'daemonset': the lab starts no agents; nearby's DaemonSet, once installed, runs on the real nodes. */
  readonly agents?: LabAgents;
  /** One cluster of several (lab-set.ts): its agents run with --multi-cluster --cluster-name. */
  readonly clusterName?: string;
}

/** One node of the lab as the supervisor runs it. */
export interface LabNode {
  readonly plan: NodePlan;
  readonly record: NodeRecord;
  readonly addresses: NodeAddresses;
  agent?: AgentProcess;
}

/** What the supervisor hands a backend once the host is ready (bridge, prober, node records). */
export interface BackendContext {
  readonly nodes: ReadonlyMap<string, LabNode>;
  /** The cluster's pod and Service subnets (kind's networking). */
  readonly network: LabNetwork;
  /** How pods are run; `changed` is the backend's own. */
  readonly pods: Omit<PodContext, 'changed'>;
  readonly record: LabRecordFile;
  readonly etc: PodEtcFiles;
  /** The address the API server is to bind and advertise (lab/api-link.ts), for a backend that runs a control plane. */
  readonly apiServer?: string;
}

/** The backend's half of a settlement; the supervisor adds the agents and the datapaths. */
export interface ClusterObservation {
  /** Changes are being applied right now. */
  readonly applying: boolean;
  readonly waiting: readonly string[];
  /** What cannot resolve by itself (an unschedulable or failed pod). */
  readonly problems: readonly string[];
  /** The objects the agents read, to plan each node's datapath from. */
  readonly objects: readonly unknown[];
}

export interface ClusterBackend {
  /** Records the control plane's processes in lab.json. */
  readonly runsControlPlane: boolean;
  /** How often wait() looks again. */
  readonly pollMs: number;
  /** The admin kubeconfig of a real control plane (KUBECONFIG for kubectl). */
  readonly kubeconfig: string | undefined;

  /** Checks the first manifests before anything is built, so a bad one leaves nothing behind; returns kubectl-style lines. */
  accept(cluster: readonly NodePlan[], network: LabNetwork, documents: readonly RawDocument[], namespace: string): string[];
  /** Brings up the cluster's side; returns where the agents read the cluster from, none with --agents daemonset. */
  start(context: BackendContext): Promise<AgentSource | undefined>;
  /** With the agents running: creates what `lab up` was given. */
  populate(documents: readonly RawDocument[], namespace: string): Promise<string[]>;

  apply(documents: readonly RawDocument[], namespace: string): Promise<string[]>;
  delete(kind: string, name: string, namespace: string): Promise<string[]>;
  label(node: string, changes: Readonly<Record<string, string | null>>, overwrite: boolean): Promise<string[]>;

  observe(): Promise<ClusterObservation>;
  runtimes(): readonly PodRuntime[];
  podViews(): PodView[];
  serviceViews(): ServiceView[];
  /** The node's labels as the cluster has them now, if they can differ from its plan's. */
  nodeLabels(node: string): Labels | undefined;

  controlPlaneAction(action: ControlPlaneAction): Promise<ControlPlaneActionResult>;
  /** An agent (re)started on `port`, or ended (undefined): for a backend that publishes the agents to a scraper. */
  agentListening?(node: string, podCidr: string, port: number | undefined): void;
  /** Ends the pods, the node processes (agents, prober: `endNodeProcesses`) and the backend's own, in its safe order. */
  stop(endNodeProcesses: () => Promise<void>): Promise<void>;
}
