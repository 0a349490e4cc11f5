/*
 * What every demo experiment does the same way: bring a lab up from sample files, print each
 * command a user would type, run the seed's kubectl commands against the lab's kubeconfig (or
 * their `nearbyctl lab` equivalents on the file-backed lab), curl from a client pod, record each
 * check as a step outcome, and take the lab down. An experiment (demo-seed-*.ts) is a list of
 * steps over one session, so a later one can add steps without touching the others.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { hostEnv, labDown, labUp, PROJECT_ROOT, resolveControlPlaneBinaries, type LabClient, type PodFault } from '../index.js';
import { AGENT_IDENTITY } from '../control-plane/index.js';
import { labHelmInstallArgs, NEARBY_CHART } from '../daemonset-helm-values.js';
import { resolveHelm } from '../helm-binary.js';
import { PROGRAMS } from '../programs.js';
import { answersOnce, type CurlRound, curlRound, type CurlUntil, curlUntil, formatRound, labShell, type PodShell } from './demo-curl.js';
import { realNodeShell } from './demo-real-node-shell.js';
import type { StepOutcome } from './demo-summary.js';

export interface DemoIo {
  out(line: string): void;
}

export const SAMPLES = join(PROJECT_ROOT, 'deploy/samples');
/** A sample file's path, and how the demo shows it (relative to the repository). */
export const sample = (file: string): string => join(SAMPLES, file);
export const shown = (file: string): string => `deploy/samples/${file}`;

export interface CurlOptions {
  readonly namespace: string;
  readonly url: string;
  readonly count: number;
  /** The client pod; by default the first app=sleep pod. */
  readonly pod?: string;
  /** How the client pod is found in the printed command, e.g. "-l app=sleep". */
  readonly lookup?: string;
}

/** Runs of the same line as one line and its count. */
function collapse(lines: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < lines.length;) {
    let j = i;
    while (j < lines.length && lines[j] === lines[i]) j++;
    out.push(j - i > 1 ? `${lines[i]!}   (x${j - i})` : lines[i]!);
    i = j;
  }
  return out;
}

/** A real-node lab starts real kubelets and containerds and imports every image into each: minutes on a busy machine. */
const REAL_NODES_UP_MS = 600_000;
/** Pods started by real kubelets on a busy machine: the lab's default wait is for its own pods. */
const REAL_NODES_SETTLE_MS = 180_000;
/** How long a step on real nodes waits for the Service's first answer before counting (answersOnce). */
const WARM_UP_MS = 20_000;
/** nearby's DaemonSet Ready on every node after `kubectl apply -k` or `helm install`. */
const ROLLOUT_S = 300;

/** How `demo --real-nodes` installs nearby: deploy/'s kustomize base or its Helm chart. */
export const INSTALLS = ['kustomize', 'helm'] as const;
export type Install = (typeof INSTALLS)[number];

export class DemoSession {
  readonly outcomes: StepOutcome[] = [];
  readonly kubectl: string | undefined;
  private client: LabClient | undefined;
  /** Every cluster's lab, when the experiment runs several. */
  private clusters: readonly LabClient[] = [];
  private kubeconfig: string | undefined;
  /** Where the client's curls run: `lab exec`, or a real node's container. */
  private shell: PodShell | undefined;

  constructor(
    private readonly io: DemoIo,
    readonly controlPlane: boolean,
    /** Real kubelets, and nearby installed as deploy/'s DaemonSet (`install` says how), not the lab's agents. */
    readonly realNodes = false,
    readonly install: Install = 'kustomize',
  ) {
    this.kubectl = controlPlane ? resolveControlPlaneBinaries().kubectl : undefined;
  }

  get lab(): LabClient {
    if (!this.client) throw new Error('the lab is not up yet');
    return this.client;
  }

  get isUp(): boolean {
    return this.client !== undefined;
  }

  say(line = ''): void {
    this.io.out(line);
  }

  command(text: string): void {
    this.say(`$ ${text}`);
  }

  /** `nearbyctl lab up` with files of the repository (paths relative to it), under the lab name given. */
  async up(files: readonly string[], name: string | undefined): Promise<void> {
    const shownName = name ? ` --name ${name}` : '';
    const flags = `${this.kubectl ? ' --control-plane' : ''}${this.realNodes ? ' --real-nodes --agents daemonset' : ''}`;
    this.command(`nearbyctl lab up ${files.join(' ')}${shownName}${flags}`);
    const up = await labUp({
      files: files.map((f) => join(PROJECT_ROOT, f)),
      controlPlane: this.controlPlane,
      ...(this.realNodes ? { realNodes: true, agents: 'daemonset' as const, timeoutMs: REAL_NODES_UP_MS } : {}),
      ...(name ? { name } : {}),
      log: (line) => this.say(`  ${line}`),
    });
    this.client = up.lab;
    this.kubeconfig = (await this.client.status()).kubeconfig;
    if (this.kubectl) this.command(`export KUBECONFIG=${this.kubeconfig}`);
    if (this.realNodes) {
      if (!up.kustomization || !this.kubectl || !this.kubeconfig) throw new Error('the real-node lab wrote no kustomization for nearby');
      if (this.install === 'helm') this.helmInstall(up.lab);
      else await this.kube(['apply', '-k', up.kustomization]);
      await this.kube(['-n', AGENT_IDENTITY.namespace, 'rollout', 'status', 'daemonset/nearby-agent', `--timeout=${ROLLOUT_S}s`]);
      this.shell = realNodeShell(up.lab.name, this.kubectl, this.kubeconfig);
    } else {
      this.shell = labShell(up.lab);
    }
  }

  /**
   * `nearbyctl lab up` with several kind configs (files of the repository), each cluster renamed
   * as `names` says (the seed's own names when empty), on real control planes; KUBECONFIG then
   * holds a kind-<name> context per cluster.
   */
  async upClusters(files: readonly string[], names: ReadonlyMap<string, string>): Promise<void> {
    this.command(`nearbyctl lab up ${files.join(' ')} --control-plane`);
    const text = files
      .map((f) => readFileSync(join(PROJECT_ROOT, f), 'utf8').replace(/^name: (.*)$/m, (line, n: string) => `name: ${names.get(n) ?? n}`))
      .join('\n---\n');
    const up = await labUp({ text, controlPlane: true, timeoutMs: 180_000, log: (line) => this.say(`  ${line}`) });
    this.client = up.lab;
    this.shell = labShell(up.lab);
    this.clusters = up.labs;
    this.kubeconfig = up.kubeconfig;
    this.command(`export KUBECONFIG=${this.kubeconfig}`);
  }

  /** The lab of one cluster of several. */
  cluster(name: string): LabClient {
    const lab = this.clusters.find((l) => l.name === name);
    if (!lab) throw new Error(`no cluster ${name} is up (${this.clusters.map((l) => l.name).join(', ')})`);
    return lab;
  }

  /** `nearbyctl ARGS | kubectl KUBECTL-ARGS`, e.g. create-remote-secret piped into kubectl apply -f -. */
  nearbyctlInto(args: readonly string[], kubectlArgs: readonly string[]): string[] {
    if (!this.kubectl || !this.kubeconfig) throw new Error(`nearbyctl ${args.join(' ')} needs the lab's real control plane`);
    this.command(`nearbyctl ${args.join(' ')} | \\\n    kubectl ${kubectlArgs.join(' ')}`);
    const env = { ...process.env, KUBECONFIG: this.kubeconfig };
    const made = spawnSync(process.execPath, [PROGRAMS.nearbyctl, ...args], { cwd: PROJECT_ROOT, env, encoding: 'utf8' });
    if (made.status !== 0) throw new Error(`nearbyctl ${args.join(' ')} failed: ${made.stderr.trim() || `exit ${made.status}`}`);
    const applied = spawnSync(this.kubectl, kubectlArgs, { cwd: PROJECT_ROOT, env, input: made.stdout, encoding: 'utf8' });
    const lines = applied.stdout.trim().split('\n').filter(Boolean);
    for (const line of lines) this.say(`  ${line}`);
    if (applied.status !== 0)
      throw new Error(`kubectl ${kubectlArgs.join(' ')} failed: ${applied.stderr.trim() || `exit ${applied.status}`}`);
    return lines;
  }

  /** `helm install` of deploy/helm/nearby with the values that place it on this lab (lab/daemonset-helm-values.ts). */
  private helmInstall(lab: LabClient): void {
    const host = hostEnv();
    const args = labHelmInstallArgs(lab.paths, host);
    this.command(`helm ${args.map((a) => (a === NEARBY_CHART ? 'deploy/helm/nearby' : a)).join(' ')}`);
    const run = spawnSync(resolveHelm(), args, {
      cwd: PROJECT_ROOT,
      env: { ...process.env, KUBECONFIG: this.kubeconfig },
      encoding: 'utf8',
    });
    const lines = run.stdout.trim().split('\n').filter(Boolean);
    for (const line of lines.slice(0, 6)) this.say(`  ${line}`);
    if (run.status !== 0)
      throw new Error(`helm ${args.join(' ')} failed: ${run.stderr.trim() || run.error?.message || `exit ${run.status}`}`);
  }

  /** One of the seed's kubectl commands: run by kubectl on a real control plane, else by the lab's equivalent. */
  async kube(args: readonly string[], viaLab?: (l: LabClient) => Promise<unknown>, input?: string): Promise<string[]> {
    if (!this.kubectl || !this.kubeconfig) {
      if (!viaLab) throw new Error(`kubectl ${args.join(' ')} needs the lab's real control plane`);
      this.command(`nearbyctl lab ${args.join(' ')}`);
      await viaLab(this.lab);
      return [];
    }
    this.command(`kubectl ${args.join(' ')}`);
    const run = spawnSync(this.kubectl, args, {
      cwd: PROJECT_ROOT,
      env: { ...process.env, KUBECONFIG: this.kubeconfig },
      encoding: 'utf8',
      ...(input !== undefined ? { input } : {}),
    });
    const lines = run.stdout.trim().split('\n').filter(Boolean);
    for (const line of lines) this.say(`  ${line}`);
    if (run.status !== 0)
      throw new Error(`kubectl ${args.join(' ')} failed: ${run.stderr.trim() || run.error?.message || `exit ${run.status}`}`);
    return lines;
  }

  /** The command that enters the client pod, as a user would type it. */
  private execCommand(namespace: string, lookup: string): string {
    const get = `${this.kubectl ? 'kubectl' : 'nearbyctl lab'} get pod -n ${namespace} ${lookup} -o jsonpath='{.items[0].metadata.name}'`;
    return `${this.realNodes ? 'kubectl' : 'nearbyctl lab'} exec -n ${namespace} "$(${get})" -c sleep --`;
  }

  private get clientShell(): PodShell {
    if (!this.shell) throw new Error('the lab is not up yet');
    return this.shell;
  }

  /** On real nodes the demo enters the container itself: the lab's API server cannot reach the kubelets' exec. */
  private get execNote(): string {
    return this.realNodes ? ', run by the demo in the container (no kubelet exec in the lab)' : '';
  }

  /**
   * The real-node lab has no cluster DNS yet: curl is told the Service's ClusterIP for its name
   * (--resolve), so the connect still goes to the VIP, where nearby rewrites it.
   */
  private async pinnedName(namespace: string, url: string): Promise<string | undefined> {
    if (!this.realNodes) return undefined;
    const { hostname, port } = new URL(url);
    const [ip] = await this.kube(['get', 'service', '-n', namespace, hostname, '-o', 'jsonpath={.spec.clusterIP}']);
    return ip ? `${hostname}:${port || '80'}:${ip}` : undefined;
  }

  async curl(options: CurlOptions): Promise<CurlRound> {
    const lookup = options.lookup ?? '-l app=sleep';
    const resolve = await this.pinnedName(options.namespace, options.url);
    const pinned = resolve ? `--resolve ${resolve} ` : '';
    this.command(
      `${this.execCommand(options.namespace, lookup)} curl -sSL ${pinned}"${options.url}"   # x${options.count}${this.execNote}`,
    );
    if (this.realNodes && !(await answersOnce(this.clientShell, options.namespace, options.url, WARM_UP_MS, options.pod, resolve)))
      this.say(`  (no answer within ${WARM_UP_MS / 1000} s before counting: the step counts what it gets)`);
    const round = await curlRound(this.clientShell, options.namespace, options.url, options.count, options.pod, resolve);
    for (const line of formatRound(round)) this.say(`  ${line}`);
    return round;
  }

  /** Curls again and again until an answer contains `until.answer`; prints repeated answers once, with their count. */
  async curlUntil(options: CurlOptions & { readonly pod: string }, until: CurlUntil): Promise<CurlRound> {
    const lookup = options.lookup ?? '-l app=sleep';
    this.command(
      `${this.execCommand(options.namespace, lookup)} sh -c 'until curl -sSL "${options.url}" | grep "${until.answer}"; do sleep ${until.pauseMs / 1000}; done'${this.execNote}`,
    );
    const round = await curlUntil(this.clientShell, options.namespace, options.url, options.pod, until);
    for (const line of collapse(formatRound(round))) this.say(`  ${line}`);
    return round;
  }

  /** `nearbyctl lab fault`: the pod refuses or drops new connections, or takes them again. */
  async fault(namespace: string, pod: string, fault: PodFault): Promise<void> {
    this.command(`nearbyctl lab fault -n ${namespace} ${pod} --${fault}`);
    for (const line of await this.lab.fault(pod, fault, { namespace })) this.say(`  ${line}`);
  }

  /** Until every pod is ready and every node's datapath is as planned (lab.wait); real kubelets get longer. */
  async settle(): Promise<void> {
    await this.lab.wait(this.realNodes ? REAL_NODES_SETTLE_MS : undefined);
  }

  /** Records a check: `ok` decides whether the step answered as the seed says it should. */
  expect(step: string, what: string, wanted: string, round: CurlRound, ok: (r: CurlRound) => boolean): boolean {
    const passed = ok(round);
    this.outcomes.push({ step, what, wanted, round, passed });
    this.say(passed ? `  -> as expected: ${wanted}` : `  -> NOT as expected (wanted ${wanted})`);
    this.say();
    return passed;
  }

  /** Records a check that is not a curl round: what was `seen`, and whether it is what the seed wants. */
  check(step: string, what: string, wanted: string, seen: string, passed: boolean): boolean {
    this.outcomes.push({ step, what, wanted, round: undefined, seen, passed });
    this.say(passed ? `  -> as expected: ${wanted}` : `  -> NOT as expected (wanted ${wanted}, saw ${seen})`);
    this.say();
    return passed;
  }

  failed(what: string, error: unknown): void {
    this.say(`demo failed: ${(error as Error).message}`);
    this.outcomes.push({ step: '!', what, wanted: 'no error', round: undefined, passed: false });
  }

  async down(): Promise<void> {
    if (!this.client) return;
    this.command('nearbyctl lab down');
    try {
      await labDown({ name: this.client.name });
    } catch (error) {
      this.say(`lab down failed: ${(error as Error).message}`);
      this.outcomes.push({ step: '!', what: 'lab down', wanted: 'nothing left behind', round: undefined, passed: false });
    }
  }
}
