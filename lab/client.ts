/*
 * A running lab, driven from outside: the calls behind every `nearbyctl lab` command and the
 * programmatic API of demos and e2e tests. Mutating calls wait by default until the lab has
 * settled (pods ready, every node's datapath as planned), so the next step sees their effect.
 */
import { existsSync, readdirSync } from 'node:fs';
import { callControl } from './control.js';
import type { ControlOp, RequestOf, ResponseOf } from './control-protocol.js';
import type { ControlPlaneAction, ControlPlaneActionResult } from './control-plane-action.js';
import { parseDocuments, readDocuments, type RawDocument } from './documents.js';
import { LabError } from './errors.js';
import { hostEnv, type HostEnv } from './host.js';
import { DEFAULT_LAB_NAME, labPaths, RUN_BASE, type LabPaths } from './layout.js';
import type { PodFault } from './pod-fault.js';
import { execInPod, type ExecOptions } from './pod-exec.js';
import type { ExecResult } from './exec-result.js';
import { readLabSet } from './lab-set.js';
import { readRecord } from './record.js';
import { isRunning } from './processes.js';
import type { LabStatus, PodStatus, Settlement } from './status.js';

export const DEFAULT_TIMEOUT_MS = 30_000;
/** Time for the supervisor to answer, on top of any wait it does. */
const ANSWER_MS = 10_000;
/** A started apiserver answers once its /readyz does: seconds, or over a minute on a loaded machine. */
const CONTROL_PLANE_ANSWER_MS = 120_000;

export interface ManifestInput {
  /** Files or directories, as `kubectl apply -f`. */
  readonly files?: readonly string[];
  /** YAML or JSON text (for `-f -` or a demo's inline manifest). */
  readonly text?: string;
}

export interface WaitOptions {
  /** Wait until the lab has settled (the default), or return once the change is made. */
  readonly wait?: boolean;
  readonly timeoutMs?: number;
}

export function readInput(input: ManifestInput): RawDocument[] {
  return [...readDocuments(input.files ?? []), ...(input.text !== undefined ? parseDocuments(input.text, '<input>') : [])];
}

/** The labs whose state dir exists. */
export function listLabs(): string[] {
  try {
    return readdirSync(RUN_BASE, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name)
      .sort();
  } catch {
    return [];
  }
}

/** --name if given, else the only lab there is (or the first cluster of the only lab set), else "nearby". */
export function resolveLabName(explicit?: string): string {
  if (explicit) return explicit;
  const labs = listLabs();
  if (labs.length === 1 && labs[0]) return labs[0];
  const set = labs[0] ? readLabSet(labs[0]) : undefined;
  if (set && labs.every((l) => set.clusters.includes(l))) return set.clusters[0] ?? DEFAULT_LAB_NAME;
  return DEFAULT_LAB_NAME;
}

export class LabClient {
  readonly paths: LabPaths;

  constructor(
    readonly name: string,
    readonly host: HostEnv,
  ) {
    this.paths = labPaths(name, host.cgroup2, host.bpffs);
  }

  /** A client for a running lab; throws 'not-found' if there is none by that name. */
  static attach(name?: string, bpffs?: string): LabClient {
    const client = new LabClient(resolveLabName(name), hostEnv(bpffs));
    const record = readRecord(client.paths.record);
    if (!record) throw new LabError('not-found', `no lab named ${client.name} is up (nothing at ${client.paths.stateDir})`);
    if (!record.supervisor || !isRunning(record.supervisor)) {
      throw new LabError(
        'not-found',
        `lab ${client.name} is broken: its supervisor (pid ${record.supervisor?.pid ?? '?'}) is gone; ` +
          `run nearbyctl lab down --name ${client.name}`,
      );
    }
    return client;
  }

  call<O extends ControlOp>(request: RequestOf<O>, timeoutMs = ANSWER_MS): Promise<ResponseOf<O>> {
    if (!existsSync(this.paths.socket))
      return Promise.reject(new LabError('not-found', `lab ${this.name} has no control socket at ${this.paths.socket}`));
    return callControl(this.paths.socket, request, timeoutMs);
  }

  private async settleAfter(lines: string[], options: WaitOptions): Promise<string[]> {
    if (options.wait !== false) await this.wait(options.timeoutMs);
    return lines;
  }

  /** `kubectl apply -f`; `namespace` is -n. Returns kubectl-style lines. */
  async apply(input: ManifestInput, options: WaitOptions & { namespace?: string } = {}): Promise<string[]> {
    const documents = readInput(input);
    return this.settleAfter(await this.call({ op: 'apply', documents, namespace: options.namespace ?? '' }), options);
  }

  async delete(kind: string, name: string, options: WaitOptions & { namespace?: string } = {}): Promise<string[]> {
    return this.settleAfter(await this.call({ op: 'delete', kind, name, namespace: options.namespace ?? 'default' }), options);
  }

  /** Labels as {key: value}, or {key: null} to remove one (`key-`). */
  async label(
    node: string,
    labels: Readonly<Record<string, string | null>>,
    options: WaitOptions & { overwrite?: boolean } = {},
  ): Promise<string[]> {
    return this.settleAfter(await this.call({ op: 'label', node, labels, overwrite: options.overwrite === true }), options);
  }

  /** Until every pod is ready and every node's datapath matches the plan. */
  wait(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<Settlement> {
    return this.call({ op: 'wait', timeoutMs }, timeoutMs + ANSWER_MS);
  }

  status(): Promise<LabStatus> {
    return this.call({ op: 'status' });
  }

  pods(options: { namespace?: string; selector?: string } = {}): Promise<PodStatus[]> {
    return this.call({ op: 'pods', ...options });
  }

  /** The name of the first pod matching the selector (what the seed gets with -o jsonpath). */
  async podName(selector: string, namespace = 'default'): Promise<string> {
    const [first] = await this.pods({ namespace, selector });
    if (!first) throw new LabError('not-found', `no pod in namespace ${namespace} matches ${selector}`);
    return first.name;
  }

  /** Stops or starts the lab's kube-apiserver, or compacts its etcd; a lab on a real control plane only. */
  controlPlane(action: ControlPlaneAction): Promise<ControlPlaneActionResult> {
    return this.call({ op: 'control-plane', action }, CONTROL_PLANE_ANSWER_MS);
  }

  /** `lab fault`: the pod (a name, pod/NAME or deployment/NAME) refuses or drops new connections, or takes them again. */
  fault(target: string, fault: PodFault, options: { namespace?: string } = {}): Promise<string[]> {
    return this.call({ op: 'fault', namespace: options.namespace ?? 'default', target, fault });
  }

  /** Runs argv in the pod (a name, pod/NAME or deployment/NAME). */
  async exec(
    target: string,
    argv: readonly string[],
    options: ExecOptions & { namespace?: string; container?: string } = {},
  ): Promise<ExecResult> {
    if (argv.length === 0) throw new LabError('usage', 'exec needs a command');
    const where = await this.call({
      op: 'exec-target',
      namespace: options.namespace ?? 'default',
      target,
      ...(options.container ? { container: options.container } : {}),
    });
    return execInPod(this.host, where, argv, options);
  }
}
