/** A simulated Kubernetes node: a cgroup to attach the datapath to, and clients inside it. */
import type { Client } from './client.js';

export interface SimNode {
  /** The name given to addNode. */
  readonly name: string;
  /** Unique on this machine (nbt-<pid>-<lab>-<node>); use it as the datapath's node name. */
  readonly nodeName: string;
  /** The node's cgroup v2 directory: attach the datapath here. */
  readonly cgroupPath: string;
  /** /sys/fs/bpf/nearby/<nodeName>; not created by the harness, removed by KernelLab.destroy(). */
  readonly pinRoot: string;
  /** Starts a client process in this node's cgroup and the lab's netns. */
  client(): Promise<Client>;
}
