/** Types shared by the harness (test process) and its helper processes. */

export type Proto = 'tcp' | 'udp';

/** How a UDP probe sends: connect()+send(), or sendto() on an unconnected socket. */
export type UdpMode = 'connected' | 'unconnected';

export interface PortSpec {
  port: number;
  proto: Proto;
}

/** What the pod server needs to run one pod: it listens on every address x port. */
export interface PodSpec {
  name: string;
  addresses: string[];
  ports: PortSpec[];
}

export interface Endpoint {
  address: string;
  port: number;
}

export interface ConnectOptions {
  address: string;
  port: number;
  proto: Proto;
  /** UDP only; default 'connected'. */
  udp?: UdpMode;
  /** Sequential connects, each on a fresh socket. */
  count: number;
  /** Per connect; default 2000. A connect that takes longer ends as errno 'ETIMEDOUT'. */
  timeoutMs?: number;
}

export interface LoopOptions {
  address: string;
  port: number;
  proto: Proto;
  udp?: UdpMode;
  /** The loop ends by itself after this long... */
  durationMs: number;
  /** ...or after this many connects, whichever comes first. */
  maxCount: number;
  /** Per connect; default 2000. */
  timeoutMs?: number;
}

export interface ConnectResult {
  /** True only when the pod answered. */
  ok: boolean;
  /** The answering pod's name. */
  answer?: string;
  /**
   * Errno name of the failure: 'ECONNREFUSED', 'ENETUNREACH', 'EPERM', ... 'ETIMEDOUT' when no
   * answer came within the timeout, 'ENODATA' when a TCP peer closed without answering.
   */
  errno?: string;
  /** The underlying error message, for diagnostics. */
  message?: string;
  /**
   * TCP and connected UDP: getpeername() right after connect. Unconnected UDP: the source of the
   * reply. With the datapath loaded this is what the application sees (the VIP, if reverse NAT
   * works), not necessarily the pod address.
   */
  peer?: Endpoint;
  /** getsockname() after connect/send: the source the kernel picked. */
  local?: Endpoint;
  /** Start and end of this connect on the nowMs() timeline (epoch ms, fractional). */
  t0: number;
  t1: number;
}
