/*
 * One way of reaching an endpoint that the connect benchmark measures. Each system sets itself up
 * in the benchmark's lab (its own cgroup, its own programming), names the address its client
 * dials and the cgroup the client runs in, and removes what it made. Adding kube-proxy's iptables
 * or nftables mode is one more implementation; the rounds, the statistics and the JSON stay.
 */
import type { ConnectLab } from './connect-lab.js';

export interface Target {
  readonly address: string;
  readonly port: number;
  /** The cgroup v2 directory the client process runs in (where this system's hooks apply). */
  readonly cgroupPath: string;
}

/** What a system had programmed while it was measured. */
export interface Loaded {
  readonly services: number;
  readonly endpoints: number;
}

export interface ConnectSystem {
  /** The JSON key prefix: `${name}_ns`, `${name}_p99_ns`, ... */
  readonly name: string;
  setup(lab: ConnectLab): Promise<Target>;
  loaded(): Loaded;
  /** Extra figures worth reporting (time to program, ...), flattened into the JSON. */
  extras(): Record<string, number>;
  teardown(): Promise<void>;
}
