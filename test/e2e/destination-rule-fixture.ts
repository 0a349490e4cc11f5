/*
 * Pieces of the DestinationRule e2e test: a lab of four workers in three regions, helloworld
 * Deployments pinned to a node and answering with their own name as version, rules as manifests,
 * kubectl on the lab's API server, many connects from a pod in one process (lab/connect-probe-main.ts),
 * and binomial bounds for weighted shares.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect } from 'vitest';
import type { LabClient } from '../../lab/index.js';
import { PROGRAMS } from '../../lab/programs.js';
import { nodeYaml } from '../fixtures/manifests.js';

const run = promisify(execFile);

/** Where each worker is: the client's node is `worker` in r1/z1. */
export const WORKERS = {
  worker: ['r1', 'z1', 's1'],
  worker2: ['r1', 'z2', 's2'],
  worker3: ['r2', 'z3', 's3'],
  worker4: ['r3', 'z4', 's4'],
} as const;
export type Worker = keyof typeof WORKERS;

/** The kind config and the node labels. */
export function clusterYaml(lab: string): string {
  const cluster = `kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
name: ${lab}
nodes:
- role: control-plane
${Object.keys(WORKERS)
  .map(() => '- role: worker')
  .join('\n')}
`;
  const nodes = Object.entries(WORKERS).map(([w, [region, zone, subzone]]) => nodeYaml(`${lab}-${w}`, region, zone, subzone));
  return [cluster, ...nodes].join('---\n');
}

/** A helloworld Deployment of one pod on `worker`, labelled app=`app`, answering "Hello version: `name`". */
export function helloDeployment(lab: string, name: string, app: string, worker: Worker): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
spec:
  replicas: 1
  selector:
    matchLabels: {app: ${app}, version: ${name}}
  template:
    metadata:
      labels: {app: ${app}, version: ${name}}
    spec:
      terminationGracePeriodSeconds: 0
      containers:
      - name: helloworld
        image: docker.io/istio/examples-helloworld-v1
        env: [{name: SERVICE_VERSION, value: ${name}}]
        ports: [{containerPort: 5000}]
      nodeSelector: {kubernetes.io/hostname: ${lab}-${worker}}
`;
}

/** A Service on port 5000 for pods labelled app=`app`, with no locality of its own. */
export function serviceYaml(name: string, app: string): string {
  return `apiVersion: v1
kind: Service
metadata:
  name: ${name}
spec:
  ports: [{name: http, port: 5000}]
  selector: {app: ${app}}
`;
}

/**
 * Idle client pods labelled app=`name`, on the r1/z1 worker: each pod is its own network
 * namespace, hence its own client to a consistent hash.
 */
export function clientYaml(lab: string, name = 'client', replicas = 1): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
spec:
  replicas: ${replicas}
  selector:
    matchLabels: {app: ${name}}
  template:
    metadata:
      labels: {app: ${name}}
    spec:
      terminationGracePeriodSeconds: 0
      containers:
      - name: client
        image: curlimages/curl
        command: ["/bin/sleep", "infinity"]
      nodeSelector: {kubernetes.io/hostname: ${lab}-worker}
`;
}

/** A DestinationRule for `host` in namespace sample with this loadBalancer. */
export function ruleJson(name: string, host: string, loadBalancer: Record<string, unknown>, apiVersion = 'v1'): string {
  return JSON.stringify({
    apiVersion: `networking.istio.io/${apiVersion}`,
    kind: 'DestinationRule',
    metadata: { name, namespace: 'sample' },
    spec: { host, trafficPolicy: { loadBalancer } },
  });
}

/** kubectl against the lab's API server with its admin kubeconfig, as a user would; throws with stderr on failure. */
export async function kubectl(binary: string, kubeconfig: string, args: string[], input?: string): Promise<string> {
  const child = run(binary, args, { env: { ...process.env, KUBECONFIG: kubeconfig }, encoding: 'utf8', timeout: 60_000 });
  if (input !== undefined) child.child.stdin?.end(input);
  try {
    return (await child).stdout;
  } catch (error) {
    throw new Error(`kubectl ${args.join(' ')}: ${String((error as { stderr?: string }).stderr ?? error)}`, { cause: error });
  }
}

export interface ProbeResult {
  /** Connects per answering version (the Deployment's name). */
  readonly answers: Record<string, number>;
  readonly failures: Record<string, number>;
  readonly ms: number;
}

/** `n` connects from `pod` to ip:5000, one after another; `hold` keeps each open until all are made. */
export async function probe(lab: LabClient, pod: string, mode: 'count' | 'hold', ip: string, n: number): Promise<ProbeResult> {
  const r = await lab.exec(pod, [process.execPath, PROGRAMS.connectProbe, mode, ip, '5000', String(n)], {
    namespace: 'sample',
    timeoutMs: 60_000 + n * 20,
  });
  if (r.code !== 0) throw new Error(`connect-probe ${mode} exited ${r.code}: ${r.stderr}${r.stdout}`);
  return JSON.parse(r.stdout) as ProbeResult;
}

/** Sum of the counts. */
export function total(counts: Readonly<Record<string, number>>): number {
  return Object.values(counts).reduce((a, b) => a + b, 0);
}

/** [low, high] of a binomial count for n trials at share p, `sigmas` standard deviations each way. */
export function binomialBounds(n: number, p: number, sigmas: number): [number, number] {
  const sd = Math.sqrt(n * p * (1 - p));
  return [Math.ceil(n * p - sigmas * sd), Math.floor(n * p + sigmas * sd)];
}

/**
 * Every version of `want` got a count within its binomial bounds, and nothing else answered.
 * The bounds must exclude an even split, or the check could not tell weights from none.
 */
export function expectShares(answers: Readonly<Record<string, number>>, want: Readonly<Record<string, number>>, sigmas: number): void {
  const n = total(answers);
  const even = n / Object.keys(want).length;
  expect(Object.keys(answers).sort()).toEqual(Object.keys(want).sort());
  for (const [version, p] of Object.entries(want)) {
    const [low, high] = binomialBounds(n, p, sigmas);
    expect(even < low || even > high, `the bounds for ${version} exclude an even split`).toBe(true);
    const got = answers[version] ?? 0;
    expect(got, `${version}: ${got} of ${n}, want ${low}..${high} (share ${p})`).toBeGreaterThanOrEqual(low);
    expect(got, `${version}: ${got} of ${n}, want ${low}..${high} (share ${p})`).toBeLessThanOrEqual(high);
  }
}
