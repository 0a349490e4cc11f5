/** The test-side handle of one pod, served by the lab's pod server. */
import type { HelperProcess } from './helper-process.js';
import { RPC_SLACK_MS } from './limits.js';
import type { PodSpec, PortSpec } from './types.js';

export interface Pod {
  readonly name: string;
  readonly addresses: string[];
  readonly ports: PortSpec[];
  /**
   * Closes its listeners and open connections; once it resolves, TCP and connected UDP get
   * ECONNREFUSED. A connect racing the stop can see ECONNRESET (it was in the accept queue).
   */
  stop(): Promise<void>;
  /** Opens its listeners again. */
  start(): Promise<void>;
}

export class ServedPod implements Pod {
  constructor(
    private readonly server: HelperProcess,
    private readonly spec: PodSpec,
  ) {}

  get name(): string {
    return this.spec.name;
  }

  get addresses(): string[] {
    return [...this.spec.addresses];
  }

  get ports(): PortSpec[] {
    return this.spec.ports.map((p) => ({ ...p }));
  }

  async start(): Promise<void> {
    await this.server.call('start', this.spec, RPC_SLACK_MS);
  }

  async stop(): Promise<void> {
    await this.server.call('stop', { name: this.spec.name }, RPC_SLACK_MS);
  }
}
