/*
 * What a kubelet does for its Node: register it (labels, taints, capacity the scheduler checks)
 * and keep it Ready, by renewing its Lease in kube-node-lease and refreshing the Ready condition.
 * Labels are set only when the Node is created: after that they are the user's (kubectl label).
 */
import type { Logger } from 'pino';
import type { Taint } from '../pod-scheduling.js';
import { ApiRequestError, MERGE_PATCH, type ApiRest } from './rest.js';

export interface RegisteredNode {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly taints: readonly Taint[];
  readonly podCidr: string;
}

/** Leases last 40 s and are renewed every 10 s, as the kubelet's defaults. */
const LEASE_SECONDS = 40;
const RENEW_MS = 10_000;
/** Pods are processes here: the number only has to be generous. */
const CAPACITY = { cpu: '8', memory: '32Gi', pods: '110', 'ephemeral-storage': '100Gi' };

function readyStatus(now: string): Record<string, unknown> {
  return {
    status: {
      capacity: CAPACITY,
      allocatable: CAPACITY,
      conditions: [
        {
          type: 'Ready',
          status: 'True',
          reason: 'KubeletReady',
          message: 'nearby lab kubelet is posting ready status',
          lastHeartbeatTime: now,
          lastTransitionTime: now,
        },
      ],
      nodeInfo: { kubeletVersion: 'nearby-lab', operatingSystem: 'linux', architecture: process.arch === 'x64' ? 'amd64' : process.arch },
    },
  };
}

const microTime = (): string => new Date().toISOString().replace('Z', '000Z');

export class NodeHeartbeat {
  private timer: NodeJS.Timeout | undefined;
  private readonly transitions = new Map<string, string>();

  constructor(
    private readonly rest: ApiRest,
    private readonly nodes: readonly RegisteredNode[],
    private readonly logger: Logger,
  ) {}

  async register(): Promise<void> {
    for (const node of this.nodes) {
      const object = {
        apiVersion: 'v1',
        kind: 'Node',
        metadata: { name: node.name, labels: { 'kubernetes.io/hostname': node.name, 'kubernetes.io/os': 'linux', ...node.labels } },
        spec: { podCIDR: node.podCidr, podCIDRs: [node.podCidr], ...(node.taints.length > 0 ? { taints: node.taints } : {}) },
      };
      try {
        await this.rest.call('POST', '/api/v1/nodes', object);
      } catch (error) {
        // Registered by an earlier run of this lab's supervisor: keep its labels.
        if (!(error instanceof ApiRequestError && error.status === 409)) throw error;
      }
      await this.beat(node.name);
    }
    this.timer = setInterval(() => void this.beatAll(), RENEW_MS);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async beatAll(): Promise<void> {
    for (const node of this.nodes) {
      await this.beat(node.name).catch((err: unknown) => this.logger.warn({ err, node: node.name }, 'node heartbeat failed; retrying'));
    }
  }

  private async beat(name: string): Promise<void> {
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const since = this.transitions.get(name) ?? now;
    this.transitions.set(name, since);
    const status = readyStatus(now);
    (status['status'] as { conditions: Array<Record<string, string>> }).conditions[0]!.lastTransitionTime = since;
    await this.rest.call('PATCH', `/api/v1/nodes/${name}/status`, status, MERGE_PATCH);
    const lease = { spec: { holderIdentity: name, leaseDurationSeconds: LEASE_SECONDS, renewTime: microTime() } };
    try {
      await this.rest.call('PATCH', `/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${name}`, lease, MERGE_PATCH);
    } catch (error) {
      if (!(error instanceof ApiRequestError && error.status === 404)) throw error;
      await this.rest.call('POST', '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases', {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name, namespace: 'kube-node-lease' },
        ...lease,
      });
    }
  }
}
