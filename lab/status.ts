/* What `lab status` and `lab get pods` report, as plain JSON shared by the supervisor and its clients. */

export interface AgentStatus {
  readonly pid?: number;
  readonly port?: number;
  readonly ready: boolean;
  readonly reason: string;
  readonly restarts: number;
}

export interface NodeStatus {
  readonly name: string;
  readonly role: 'control-plane' | 'worker';
  readonly labels: Readonly<Record<string, string>>;
  /**
   * The locality the planner reads from this node's labels as the agents last got them
   * ("region/zone/subzone", '-' where unset), null when no locality label is set.
   */
  readonly locality: string | null;
  readonly podCidr: string;
  readonly cgroup: string;
  readonly pinRoot: string;
  readonly agent: AgentStatus;
  /**
   * Services the planner wants on this node with an entry its maps do not hold ("ns/name",
   * sorted): an agent can be ready while a full map refused some (docs/troubleshooting.md).
   */
  readonly notProgrammed: readonly string[];
}

export interface PodStatus {
  readonly namespace: string;
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly node?: string;
  readonly ip?: string;
  readonly phase: string;
  readonly ready: boolean;
  readonly terminating: boolean;
  readonly restarts: number;
  readonly reason?: string;
  readonly containers: readonly string[];
  readonly createdAt: string;
}

/** The policy the planner chose for a Service, and where it came from. */
export interface ServicePolicy {
  /** FAILOVER, STRICT, RANDOM, WEIGHTED, SPILLOVER, or "not intercepted". */
  readonly mode: string;
  /** The field, annotation or rule that chose it ("no locality policy" for the fallback), or why it is not intercepted. */
  readonly from: string;
  /** Policy values the planner did not know and skipped ("Service ns/x: unknown ..."). */
  readonly ignored: readonly string[];
}

export interface ServiceStatus {
  readonly namespace: string;
  readonly name: string;
  readonly clusterIP: string;
  readonly ports: readonly string[];
  readonly trafficDistribution?: string;
  readonly internalTrafficPolicy?: string;
  /** Absent until the lab is up and its objects are published. */
  readonly policy?: ServicePolicy;
  readonly endpoints: { readonly ready: number; readonly total: number };
}

export interface LabStatus {
  readonly name: string;
  readonly stateDir: string;
  readonly createdAt: string;
  readonly supervisorPid: number;
  /** The admin kubeconfig of a lab on a real control plane (KUBECONFIG for kubectl). */
  readonly kubeconfig?: string;
  readonly nodes: readonly NodeStatus[];
  readonly pods: readonly PodStatus[];
  readonly services: readonly ServiceStatus[];
}

/** Where `lab exec` runs a command: the pod's netns and cgroup, with the pod's environment. */
export interface ExecTarget {
  readonly namespace: string;
  readonly name: string;
  readonly netns: string;
  readonly cgroup: string;
  readonly env: Readonly<Record<string, string>>;
  readonly containers: readonly string[];
}

/** How far a wait got: `done`, or what is still pending and what cannot resolve by itself. */
export interface Settlement {
  readonly done: boolean;
  readonly waiting: readonly string[];
  readonly problems: readonly string[];
  /** Nodes whose agent refused planned Services (waiting.ts stuckNodes): a wait stops if it lasts. */
  readonly stuck?: readonly string[];
}
