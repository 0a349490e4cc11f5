// Two kind configs in one `lab up --control-plane`: a cluster each with its own API server and
// agents, kind's node names, distinct pod ranges on one flat network (a pod of one cluster
// reaches a pod of the other by its address), the same ClusterIP in both clusters meaning each
// cluster's own Service, each cluster's API server at its own address reached by that cluster's
// pods at 10.96.0.1:443, one kubeconfig with kind-<name> contexts, and status and down covering
// both, leaving nothing behind.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLab } from '../../lab/cli/lab.js';
import { labDown, labUp, readRecord, resolveControlPlaneBinaries, type LabClient, type LabRecord } from '../../lab/index.js';
import { helloDeployment, kubectl, probe } from './destination-rule-fixture.js';
import { apiServerFromPod, assertLabPrereqs, leftoversOf, processesInLabCgroups } from './lab-fixture.js';

const NAMES = [`e2e-ls1-${process.pid}`, `e2e-ls2-${process.pid}`] as const;
/** Both clusters give their helloworld Service this address: Service ranges overlap, as two kind clusters' do. */
const VIP = '10.96.0.50';
let labs: readonly LabClient[] = [];
let kubeconfig = '';
let records: LabRecord[] = [];
const binary = (): string => resolveControlPlaneBinaries().kubectl;
const ctl = (name: string, args: string[], input?: string): Promise<string> =>
  kubectl(binary(), kubeconfig, ['--context', `kind-${name}`, ...args], input);

const kindConfig = (name: string): string => `kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
name: ${name}
nodes:
- role: control-plane
- role: worker
`;

const workload = (name: string, version: string): string =>
  [
    `apiVersion: v1
kind: Service
metadata: {name: hello, namespace: sample}
spec:
  clusterIP: ${VIP}
  ports: [{name: http, port: 5000}]
  selector: {app: hello}
`,
    helloDeployment(name, version, 'hello', 'worker').replace('metadata:\n  name:', 'metadata:\n  namespace: sample\n  name:'),
    `apiVersion: apps/v1
kind: Deployment
metadata: {name: client, namespace: sample}
spec:
  replicas: 1
  selector: {matchLabels: {app: client}}
  template:
    metadata: {labels: {app: client}}
    spec:
      terminationGracePeriodSeconds: 0
      containers: [{name: client, image: curlimages/curl, command: ["/bin/sleep", "infinity"]}]
      nodeSelector: {kubernetes.io/hostname: ${name}-worker}
`,
  ].join('---\n');

const podOf = async (lab: LabClient, app: string): Promise<{ name: string; ip: string }> => {
  const pod = (await lab.pods({ namespace: 'sample', selector: `app=${app}` })).find((p) => p.ready && !p.terminating);
  if (!pod?.ip) throw new Error(`no ready ${app} pod in ${lab.name}`);
  return { name: pod.name, ip: pod.ip };
};

beforeAll(async () => {
  await assertLabPrereqs();
  const up = await labUp({ text: NAMES.map(kindConfig).join('---\n'), controlPlane: true, timeoutMs: 120_000 });
  labs = up.labs;
  kubeconfig = up.kubeconfig ?? '';
  for (const name of NAMES) {
    await ctl(name, ['create', 'namespace', 'sample']);
    await ctl(name, ['apply', '-f', '-'], workload(name, `v-${name}`));
  }
  for (const lab of labs) await lab.wait(60_000);
  records = labs.map((l) => readRecord(l.paths.record)!);
}, 240_000);

afterAll(async () => {
  if (labs.length > 0) await labDown({ name: NAMES[0] }).catch(() => undefined);
});

describe('two kind clusters in one lab', () => {
  it("runs each cluster as its config says, with kind's node names and distinct pod ranges", async () => {
    expect(labs.map((l) => l.name)).toEqual([...NAMES]);
    const statuses = await Promise.all(labs.map((l) => l.status()));
    expect(statuses.map((s) => s.nodes.map((n) => n.name))).toEqual(NAMES.map((n) => [`${n}-control-plane`, `${n}-worker`]));
    expect(statuses[0]!.nodes.every((n) => n.podCidr.startsWith('10.244.'))).toBe(true);
    expect(statuses[1]!.nodes.every((n) => n.podCidr.startsWith('10.245.'))).toBe(true);
  });

  it("answers kubectl --context kind-<name> with that cluster's own nodes", async () => {
    for (const name of NAMES) {
      const nodes = (await ctl(name, ['get', 'nodes', '-o', 'name'])).trim().split('\n').sort();
      expect(nodes).toEqual([`node/${name}-control-plane`, `node/${name}-worker`]);
    }
  });

  it("gives the same ClusterIP in each cluster to that cluster's own Service", async () => {
    for (const [i, lab] of labs.entries()) {
      const client = await podOf(lab, 'client');
      const r = await probe(lab, client.name, 'count', VIP, 20);
      expect(r.answers).toEqual({ [`v-${NAMES[i]}`]: 20 });
    }
  });

  it("publishes each cluster's API server at its own address, which that cluster's pods reach at 10.96.0.1:443", async () => {
    const addresses: string[] = [];
    for (const [i, lab] of labs.entries()) {
      const slice = JSON.parse(
        await ctl(NAMES[i]!, ['get', 'endpointslice', '-n', 'default', '-l', 'kubernetes.io/service-name=kubernetes', '-o', 'json']),
      ) as { items: Array<{ endpoints: Array<{ addresses: string[] }> }> };
      addresses.push(...slice.items.flatMap((item) => item.endpoints.flatMap((e) => e.addresses)));
      // Verified with this cluster's own CA: only this cluster's API server can answer.
      const answer = await apiServerFromPod(lab, (await podOf(lab, 'client')).name, '/healthz');
      expect([answer.code, answer.status, answer.body], answer.stderr).toEqual([0, 200, 'ok']);
    }
    expect(addresses).toHaveLength(2);
    expect(new Set(addresses).size).toBe(2);
  });

  it('reaches a pod of the other cluster by its address: one flat network', async () => {
    const [one, two] = labs as [LabClient, LabClient];
    const server = await podOf(two, 'hello');
    expect(server.ip.startsWith('10.245.')).toBe(true);
    const r = await probe(one, (await podOf(one, 'client')).name, 'count', server.ip, 5);
    expect(r.answers).toEqual({ [`v-${NAMES[1]}`]: 5 });
  });

  it('lab status covers both clusters, and lab down removes both leaving nothing behind', async () => {
    const out: string[] = [];
    const io = { out: (l: string) => out.push(l), err: (l: string) => out.push(l) };
    expect(await runLab(['status', '--name', NAMES[1]], io)).toBe(0);
    expect(out.join('\n')).toContain(`cluster ${NAMES[0]}`);
    expect(out.join('\n')).toContain(`cluster ${NAMES[1]}`);
    const latest = labs.map((l, i) => readRecord(l.paths.record) ?? records[i]!);
    out.length = 0;
    expect(await runLab(['down', '--name', NAMES[1]], io)).toBe(0);
    expect(out.join('\n')).toMatch(new RegExp(`lab ${NAMES[0]}, ${NAMES[1]} removed`));
    for (const [i, name] of NAMES.entries()) {
      expect(leftoversOf(name, latest[i]!)).toEqual([]);
      expect(processesInLabCgroups(name)).toEqual([]);
    }
    labs = [];
  });
});
