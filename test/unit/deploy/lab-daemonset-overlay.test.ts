// The real-node lab's kustomize install (lab/daemonset-overlay, lab/daemonset-kustomization.ts):
// what a lab's `kubectl apply -k` builds is deploy/'s base with exactly two changes, each node's
// own cgroup2 subtree mounted at the base's path and the API server's own address, read from a
// ConfigMap that carries the lab's values. Everything else, capabilities and probes included, is
// the base's, so the lab runs the manifest real clusters get.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BASE_CGROUP_HOST_PATH,
  DAEMONSET_OVERLAY,
  LAB_KUSTOMIZATION_DIR,
  labNodeValues,
  writeLabKustomization,
} from '../../../lab/daemonset-kustomization.js';
import { kustomizeYaml, type KubeObject, only, parseObjects } from '../../fixtures/deploy-render.js';

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { configMapKeyRef?: { name: string; key: string } };
}
interface Container {
  name: string;
  env: EnvVar[];
  volumeMounts: Array<{ name: string; mountPath: string; readOnly?: boolean; subPathExpr?: string }>;
  [field: string]: unknown;
}
interface PodSpec {
  containers: Container[];
  volumes: Array<{ name: string; hostPath?: { path: string; type?: string } }>;
  [field: string]: unknown;
}
type DaemonSet = KubeObject & { spec: { template: { spec: PodSpec } } };

let dir: string;
let base: KubeObject[];
let lab: KubeObject[];
let written: string;

const daemonSet = (objects: readonly KubeObject[]): DaemonSet => only(objects, 'DaemonSet', 'nearby-agent') as DaemonSet;
const agent = (objects: readonly KubeObject[]): Container => daemonSet(objects).spec.template.spec.containers[0]!;
const configMap = (objects: readonly KubeObject[]): KubeObject & { data: Record<string, string> } =>
  objects.find((o) => o.kind === 'ConfigMap') as KubeObject & { data: Record<string, string> };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'nearby-lab-overlay-'));
  const stateDir = join(dir, 'state');
  mkdirSync(stateDir);
  writeFileSync(
    join(stateDir, 'kubeconfig'),
    'apiVersion: v1\nkind: Config\nclusters:\n- name: lab\n  cluster:\n    server: https://172.30.7.1:6443\n',
  );
  written = writeLabKustomization({ stateDir, cgroupRoot: `${BASE_CGROUP_HOST_PATH}/unified/nearby-lab/deploy-x` });
  [base, lab] = (await Promise.all([kustomizeYaml(), kustomizeYaml(written)])).map(parseObjects) as [KubeObject[], KubeObject[]];
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the lab's kustomization", () => {
  it("is written below the state dir and carries the lab's API server and cgroup parent", () => {
    expect(written).toBe(join(dir, 'state', LAB_KUSTOMIZATION_DIR));
    expect(configMap(lab).data).toEqual({
      'api-server-host': '172.30.7.1',
      'api-server-port': '6443',
      'node-cgroup-parent': 'unified/nearby-lab/deploy-x',
    });
    expect(readFileSync(join(written, 'kustomization.yaml'), 'utf8')).toContain(`kubectl apply -k ${written}`);
  });

  it('mounts each node its own cgroup2 subtree, read-only, at the path the base gives the agent', () => {
    const mount = agent(lab).volumeMounts.find((m) => m.name === 'cgroup')!;
    expect(mount).toEqual({
      name: 'cgroup',
      mountPath: '/run/nearby/cgroup',
      readOnly: true,
      subPathExpr: '$(LAB_NODE_CGROUP_PARENT)/$(NODE_NAME)',
    });
    const parent = agent(lab).env.find((e) => e.name === 'LAB_NODE_CGROUP_PARENT')!;
    expect(parent.valueFrom?.configMapKeyRef).toEqual({ name: configMap(lab).metadata.name, key: 'node-cgroup-parent' });
    expect(agent(lab).env.find((e) => e.name === 'NEARBY_CGROUP_PATH')).toEqual(
      agent(base).env.find((e) => e.name === 'NEARBY_CGROUP_PATH'),
    );
  });

  it("reads the API server's own address from the ConfigMap", () => {
    const from = (name: string) => agent(lab).env.find((e) => e.name === name)?.valueFrom?.configMapKeyRef;
    expect(from('NEARBY_API_SERVER_HOST')).toEqual({ name: configMap(lab).metadata.name, key: 'api-server-host' });
    expect(from('NEARBY_API_SERVER_PORT')).toEqual({ name: configMap(lab).metadata.name, key: 'api-server-port' });
  });

  it("changes nothing else of the base: capabilities, probes, volumes' host paths, image and every other object", () => {
    const added = new Set(['NEARBY_API_SERVER_HOST', 'NEARBY_API_SERVER_PORT', 'LAB_NODE_CGROUP_PARENT']);
    const strip = (c: Container) => ({
      ...c,
      env: c.env.filter((e) => !added.has(e.name)).sort((a, b) => a.name.localeCompare(b.name)),
      volumeMounts: c.volumeMounts.map(({ subPathExpr: _, ...m }) => m).sort((a, b) => a.name.localeCompare(b.name)),
    });
    expect(strip(agent(lab))).toEqual(strip(agent(base)));
    const { containers: _l, ...labPod } = daemonSet(lab).spec.template.spec;
    const { containers: _b, ...basePod } = daemonSet(base).spec.template.spec;
    expect(labPod).toEqual(basePod);
    const others = (objects: readonly KubeObject[]) => objects.filter((o) => o.kind !== 'DaemonSet' && o.kind !== 'ConfigMap');
    expect(others(lab)).toEqual(others(base));
  });

  it("mounts the base's cgroup host path, the one BASE_CGROUP_HOST_PATH names", () => {
    expect(daemonSet(base).spec.template.spec.volumes.find((v) => v.name === 'cgroup')?.hostPath?.path).toBe(BASE_CGROUP_HOST_PATH);
  });

  it('refuses a lab whose cgroups are not below that path, and a kubeconfig without a server', () => {
    const stateDir = join(dir, 'state');
    expect(() => labNodeValues({ stateDir, cgroupRoot: '/elsewhere/nearby-lab/x' })).toThrow(/not below \/sys\/fs\/cgroup/);
    const bare = join(dir, 'bare');
    mkdirSync(bare);
    writeFileSync(join(bare, 'kubeconfig'), 'apiVersion: v1\nkind: Config\nclusters: []\n');
    expect(() => labNodeValues({ stateDir: bare, cgroupRoot: '/sys/fs/cgroup/nearby-lab/x' })).toThrow(/names no API server/);
  });

  it('is an overlay of deploy/ that builds on its own, with the demo lab as its defaults', async () => {
    const objects = parseObjects(await kustomizeYaml(DAEMONSET_OVERLAY));
    expect(configMap(objects).data['node-cgroup-parent']).toBe('nearby-lab/ambient');
    expect(daemonSet(objects).spec.template.spec.containers[0]!.volumeMounts.find((m) => m.name === 'cgroup')?.subPathExpr).toBeDefined();
  });
});
