// What a cluster admin grants by installing nearby, checked on what would really be applied: the
// kustomize base as `kubectl kustomize deploy/` builds it, and the Helm chart as `helm template`
// renders it (with its defaults, and with every value a user is meant to change set). Neither may
// run privileged or add a capability beyond BPF and NET_ADMIN (the set
// test/kernel/agent-capabilities.test.ts proves necessary and sufficient), nor grant more than
// get/list/watch cluster-wide on the kinds the agent plans from, nor touch Secrets anywhere but
// in the one namespace of remote secrets (a Role, only when multi-cluster is turned on: the chart's
// multiCluster.enabled, deploy/multi-cluster/ for kustomize). And the two installs must agree on every field that
// decides what the agent may do.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { remoteRbacManifests } from '../../../cmd/ctl/remote-secret.js';
import { DEPLOY, helmYaml, kustomizeYaml, type KubeObject, NAMESPACE, only, parseObjects, ROOT } from '../../fixtures/deploy-render.js';

const CAPABILITIES = ['BPF', 'NET_ADMIN'];
const READ_VERBS = ['get', 'list', 'watch'];
/** apiGroup -> resources the agent may read; nothing else, in any group. */
const READABLE: Record<string, string[]> = {
  '': ['namespaces', 'nodes', 'services'],
  'discovery.k8s.io': ['endpointslices'],
  'networking.istio.io': ['destinationrules'],
};
/** hostPath -> mounted read-only? bpffs is written (pins), the cgroup tree only opened. */
const HOST_PATHS: Record<string, boolean> = { '/sys/fs/bpf': false, '/sys/fs/cgroup': true };
const SERVICE_ACCOUNT = 'nearby-agent';
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

/** Every value a user is meant to change, set away from its default. */
const HELM_VALUES_SET: Record<string, string> = {
  'image.repository': 'registry.example/nearby',
  'image.tag': 'custom',
  preferClose: 'zone',
  clusterDomain: 'corp.example',
  istioRootNamespace: 'mesh-root',
  clusterName: 'cluster1',
  'multiCluster.enabled': 'true',
  'apiServer.host': '172.30.0.1',
  'apiServer.port': '6443',
  serviceProxyName: 'nearby-b',
  services: 'with-policy',
  logLevel: 'debug',
  resyncSeconds: '30',
  'mapSizes.services': '1000',
  'mapSizes.backends': '2000',
  'mapSizes.slots': '4000',
  'mapSizes.revNat': '1024',
  'mapSizes.counters': '8000',
  'metrics.port': '9791',
  'metrics.serviceMonitor.enabled': 'true',
  'resources.limits.memory': '512Mi',
  'nodeSelector.kubernetes\\.io/os': 'linux',
  'tolerations[0].key': 'dedicated',
  'tolerations[0].operator': 'Exists',
};

interface Rule {
  apiGroups?: string[];
  resources?: string[];
  verbs?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}
interface Container {
  name: string;
  image: string;
  securityContext?: Record<string, unknown>;
  volumeMounts?: Array<{ name: string; mountPath: string; readOnly?: boolean }>;
  ports?: Array<{ name?: string; containerPort: number }>;
  readinessProbe?: { httpGet?: { path: string; port: string | number } };
  livenessProbe?: { httpGet?: { path: string; port: string | number }; initialDelaySeconds?: number };
  startupProbe?: { httpGet?: { path: string; port: string | number }; periodSeconds?: number; failureThreshold?: number };
  env?: Array<{ name: string; value?: string; valueFrom?: unknown }>;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
}
interface PodSpec {
  serviceAccountName?: string;
  automountServiceAccountToken?: boolean;
  hostNetwork?: boolean;
  hostPID?: boolean;
  hostIPC?: boolean;
  securityContext?: Record<string, unknown>;
  initContainers?: Container[];
  containers: Container[];
  volumes?: Array<{ name: string; hostPath?: { path: string; type?: string }; [source: string]: unknown }>;
  tolerations?: Array<Record<string, unknown>>;
  priorityClassName?: string;
}

const podSpec = (objects: readonly KubeObject[]): PodSpec =>
  (only(objects, 'DaemonSet', 'nearby-agent') as unknown as { spec: { template: { spec: PodSpec } } }).spec.template.spec;
const agentContainer = (objects: readonly KubeObject[]): Container => {
  const containers = podSpec(objects).containers;
  expect(containers.map((c) => c.name)).toEqual(['agent']);
  return containers[0]!;
};
const rulesOf = (objects: readonly KubeObject[], kinds = ['ClusterRole', 'Role']): Rule[] =>
  objects.filter((o) => kinds.includes(o.kind)).flatMap((o) => (o['rules'] as Rule[] | undefined) ?? []);
/** The only namespaced grant there may be: Secrets, read-only, in the remote-secret namespace. */
const SECRET_GRANTS = READ_VERBS.map((v) => `/secrets:${v}`);

/** Every path (a.b[0].c) in an object tree whose key is `key` and whose value is `value`. */
function pathsWhere(tree: unknown, key: string, value: unknown, at = ''): string[] {
  if (Array.isArray(tree)) return tree.flatMap((item, i) => pathsWhere(item, key, value, `${at}[${i}]`));
  if (tree === null || typeof tree !== 'object') return [];
  return Object.entries(tree).flatMap(([k, v]) => [
    ...(k === key && v === value ? [`${at}.${k}`] : []),
    ...pathsWhere(v, key, value, `${at}.${k}`),
  ]);
}

/** The rules as (group, resource, verb) triples, sorted: the same grant however it is grouped. */
function grants(rules: readonly Rule[]): string[] {
  return rules
    .flatMap((r) =>
      (r.apiGroups ?? []).flatMap((g) => (r.resources ?? []).flatMap((res) => (r.verbs ?? []).map((v) => `${g}/${res}:${v}`))),
    )
    .sort();
}

/**
 * Everything that decides what the agent may do or reach, in one comparable value: RBAC, the
 * identity it runs as, host namespaces and mounts, its security context, and the probes and
 * port the kubelet and scrapers use. Labels, env for tuning and scheduling hints are left out.
 */
function securityView(objects: readonly KubeObject[]): unknown {
  const pod = podSpec(objects);
  const container = agentContainer(objects);
  const placementEnv = (container.env ?? []).filter((e) => ['NODE_NAME', 'NEARBY_CGROUP_PATH', 'NEARBY_BPFFS'].includes(e.name));
  return {
    kinds: objects
      .filter((o) => o.kind !== 'ServiceMonitor')
      .map((o) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`)
      .filter((k) => !k.startsWith('Namespace/'))
      .sort(),
    rules: grants(rulesOf(objects)),
    bindings: objects
      .filter((o) => o.kind.endsWith('Binding'))
      .map((o) => ({ namespace: o.metadata.namespace, roleRef: o['roleRef'], subjects: o['subjects'] }))
      .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
    pod: {
      serviceAccountName: pod.serviceAccountName,
      automountServiceAccountToken: pod.automountServiceAccountToken,
      hostNetwork: pod.hostNetwork ?? false,
      hostPID: pod.hostPID ?? false,
      hostIPC: pod.hostIPC ?? false,
      securityContext: pod.securityContext,
      initContainers: pod.initContainers ?? [],
      volumes: pod.volumes,
    },
    container: {
      securityContext: container.securityContext,
      volumeMounts: container.volumeMounts,
      readinessProbe: container.readinessProbe,
      livenessProbe: container.livenessProbe,
      startupProbe: container.startupProbe,
      placementEnv,
    },
  };
}

let kustomize: KubeObject[];
let helmDefault: KubeObject[];
let helmCustom: KubeObject[];
let kustomizeMulti: KubeObject[];
let helmOff: KubeObject[];
let helmMovedSecrets: KubeObject[];
let serviceMonitor: KubeObject[];
/** The helm renders with their pre-delete hooks (the uninstall cleanup), which the above leave out. */
let helmDefaultAll: KubeObject[];
let helmCustomAll: KubeObject[];
let cleanupKustomize: KubeObject[];

/** What `helm install` applies: hooks run only at their event, and are held to rules of their own below. */
const installed = (objects: readonly KubeObject[]): KubeObject[] => objects.filter((o) => !o.metadata.annotations?.['helm.sh/hook']);

beforeAll(async () => {
  // Throws naming `make control-plane` or `make helm` when a binary is missing: fails, never skips.
  const [base, chart, chartSet, monitor, multi, off, moved] = await Promise.all([
    kustomizeYaml(),
    helmYaml(),
    helmYaml(HELM_VALUES_SET),
    kustomizeYaml(join(DEPLOY, 'prometheus-operator')),
    kustomizeYaml(join(DEPLOY, 'multi-cluster')),
    helmYaml({ 'multiCluster.enabled': 'false' }),
    helmYaml({ 'multiCluster.enabled': 'true', 'multiCluster.secretNamespace': 'mesh-secrets' }),
  ]);
  kustomizeMulti = parseObjects(multi);
  helmOff = installed(parseObjects(off));
  helmMovedSecrets = installed(parseObjects(moved));
  kustomize = parseObjects(base);
  helmDefaultAll = parseObjects(chart);
  helmCustomAll = parseObjects(chartSet);
  helmDefault = installed(helmDefaultAll);
  helmCustom = installed(helmCustomAll);
  cleanupKustomize = parseObjects(await kustomizeYaml(join(DEPLOY, 'uninstall')));
  serviceMonitor = parseObjects(monitor);
});

const EACH = ['kustomize', 'helm (defaults)', 'helm (every value set)'] as const;
/** Read when a test runs, after beforeAll rendered them. */
const rendered = (name: (typeof EACH)[number]): KubeObject[] =>
  ({ kustomize, 'helm (defaults)': helmDefault, 'helm (every value set)': helmCustom })[name];

describe.each(EACH)('%s', (name) => {
  it('runs nothing privileged and shares no host namespace', () => {
    const objects = rendered(name);
    expect(pathsWhere(objects, 'privileged', true)).toEqual([]);
    expect(pathsWhere(objects, 'allowPrivilegeEscalation', true)).toEqual([]);
    for (const key of ['hostNetwork', 'hostPID', 'hostIPC']) expect(pathsWhere(objects, key, true)).toEqual([]);
    // Every workload is the one DaemonSet: nothing else could run with other settings.
    expect(
      objects
        .filter((o) => ['Pod', 'Deployment', 'StatefulSet', 'ReplicaSet', 'Job', 'CronJob', 'DaemonSet'].includes(o.kind))
        .map((o) => o.kind),
    ).toEqual(['DaemonSet']);
  });

  it('adds exactly BPF and NET_ADMIN to a container that drops ALL, with a read-only root', () => {
    const objects = rendered(name);
    expect(podSpec(objects).initContainers ?? []).toEqual([]);
    expect(agentContainer(objects).securityContext).toEqual({
      privileged: false,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsUser: 0,
      runAsNonRoot: false,
      capabilities: { drop: ['ALL'], add: CAPABILITIES },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(podSpec(objects).securityContext ?? {}).toEqual({});
  });

  it('mounts only bpffs (read-write) and the cgroup tree (read-only) from the host, and nothing secret', () => {
    const objects = rendered(name);
    const pod = podSpec(objects);
    const mounts = agentContainer(objects).volumeMounts ?? [];
    const byHostPath = Object.fromEntries(
      (pod.volumes ?? []).map((v) => {
        expect(Object.keys(v).sort(), `volume ${v.name}`).toEqual(['hostPath', 'name']);
        const mount = mounts.find((m) => m.name === v.name);
        expect(mount, `a mount of volume ${v.name}`).toBeDefined();
        expect(v.hostPath?.type).toBe('Directory');
        return [v.hostPath!.path, mount!.readOnly === true];
      }),
    );
    expect(byHostPath).toEqual(HOST_PATHS);
    expect(mounts).toHaveLength(Object.keys(HOST_PATHS).length);
    expect(objects.filter((o) => o.kind === 'Secret')).toEqual([]);
  });

  it('grants get/list/watch on nodes, services, namespaces, endpointslices and destinationrules, and nothing else', () => {
    const objects = rendered(name);
    const rules = rulesOf(objects);
    expect(grants(rulesOf(objects, ['ClusterRole']))).toEqual(
      Object.entries(READABLE)
        .flatMap(([g, resources]) => resources.flatMap((r) => READ_VERBS.map((v) => `${g}/${r}:${v}`)))
        .sort(),
    );
    for (const rule of rules) {
      expect(rule.resourceNames ?? [], 'resourceNames').toEqual([]);
      expect(rule.nonResourceURLs ?? [], 'nonResourceURLs').toEqual([]);
      for (const field of [rule.apiGroups, rule.resources, rule.verbs]) expect(field ?? []).not.toContain('*');
    }
    expect(JSON.stringify(rulesOf(objects, ['ClusterRole']))).not.toMatch(/secret/i);
    // Secrets only through a Role in istio-system, and only where multi-cluster is turned on (off by default in both).
    const roles = objects.filter((o) => o.kind === 'Role');
    expect(roles.map((r) => `${r.metadata.namespace}/${r.metadata.name}`)).toEqual(
      name === 'helm (every value set)' ? ['istio-system/nearby-agent-remote-secrets'] : [],
    );
    expect(grants(rulesOf(objects, ['Role']))).toEqual(name === 'helm (every value set)' ? SECRET_GRANTS : []);
  });

  it('binds that role to the agent ServiceAccount only, and runs the agent as it', () => {
    const objects = rendered(name);
    const role = only(objects, 'ClusterRole');
    const binding = only(objects, 'ClusterRoleBinding');
    expect(binding['roleRef']).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role.metadata.name });
    expect(binding['subjects']).toEqual([{ kind: 'ServiceAccount', name: SERVICE_ACCOUNT, namespace: NAMESPACE }]);
    expect(only(objects, 'ServiceAccount').metadata).toMatchObject({ name: SERVICE_ACCOUNT, namespace: NAMESPACE });
    expect(podSpec(objects).serviceAccountName).toBe(SERVICE_ACCOUNT);
  });

  it('probes /readyz and /healthz (start-up and liveness) on the named metrics port, which the headless metrics Service exposes', () => {
    const objects = rendered(name);
    const container = agentContainer(objects);
    const metricsPort = container.ports?.find((p) => p.name === 'metrics');
    expect(metricsPort?.containerPort).toBe(name === 'helm (every value set)' ? 9791 : 9790);
    expect(container.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 'metrics' });
    expect(container.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'metrics' });
    // A slow start is not killed: liveness counts only once the startup probe passed, within 5 minutes.
    expect(container.startupProbe?.httpGet).toEqual({ path: '/healthz', port: 'metrics' });
    expect((container.startupProbe?.periodSeconds ?? 10) * (container.startupProbe?.failureThreshold ?? 3)).toBe(300);
    expect(container.livenessProbe?.initialDelaySeconds).toBeUndefined();
    expect(container.env?.find((e) => e.name === 'NEARBY_LISTEN')?.value).toBe(`:${metricsPort?.containerPort}`);

    const service = only(objects, 'Service', 'nearby-agent-metrics') as unknown as {
      metadata: { annotations: Record<string, string> };
      spec: { clusterIP: string; selector: Record<string, string>; ports: Array<{ name: string; port: number; targetPort: string }> };
    };
    expect(service.spec.clusterIP).toBe('None');
    expect(service.spec.ports).toEqual([{ name: 'metrics', port: metricsPort?.containerPort, targetPort: 'metrics', protocol: 'TCP' }]);
    const podLabels = (only(objects, 'DaemonSet') as unknown as { spec: { template: { metadata: { labels: Record<string, string> } } } })
      .spec.template.metadata.labels;
    expect(podLabels).toMatchObject(service.spec.selector);
    expect(service.metadata.annotations).toEqual({
      'prometheus.io/scrape': 'true',
      'prometheus.io/port': String(metricsPort?.containerPort),
      'prometheus.io/path': '/metrics',
    });
  });

  it('takes NODE_NAME from the downward API, tolerates every taint, and updates one node at a time without surge', () => {
    const objects = rendered(name);
    const container = agentContainer(objects);
    expect(container.env?.find((e) => e.name === 'NODE_NAME')).toEqual({
      name: 'NODE_NAME',
      valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } },
    });
    expect(podSpec(objects).tolerations).toContainEqual(
      name === 'helm (every value set)' ? { key: 'dedicated', operator: 'Exists' } : { operator: 'Exists' },
    );
    expect((only(objects, 'DaemonSet') as unknown as { spec: { updateStrategy: unknown } }).spec.updateStrategy).toEqual({
      type: 'RollingUpdate',
      rollingUpdate: { maxUnavailable: 1, maxSurge: 0 },
    });
    expect(container.resources?.limits?.['memory']).toMatch(/^\d+Mi$/);
    expect(container.resources?.requests?.['memory']).toMatch(/^\d+Mi$/);
  });
});

describe('helm and kustomize agree', () => {
  it('on every security-relevant field, with the chart defaults (the kustomize base alone)', () => {
    expect(securityView(helmDefault)).toEqual(securityView(kustomize));
  });

  it('on every security-relevant field, whatever the values a user is meant to change (multi-cluster on: kustomize with deploy/multi-cluster/)', () => {
    expect(securityView(helmCustom)).toEqual(securityView([...kustomize, ...kustomizeMulti]));
  });

  it('on every security-relevant field with multi-cluster off (the kustomize base alone)', () => {
    expect(securityView(helmOff)).toEqual(securityView(kustomize));
  });

  it("on the image, which is package.json's version, and the resources and tolerations by default", () => {
    const image = `ghcr.io/nearby-lb/nearby-agent:${VERSION}`;
    expect(agentContainer(kustomize).image).toBe(image);
    expect(agentContainer(helmDefault).image).toBe(image);
    expect(agentContainer(helmCustom).image).toBe('registry.example/nearby:custom');
    expect(agentContainer(helmDefault).resources).toEqual(agentContainer(kustomize).resources);
    expect(podSpec(helmDefault).tolerations).toEqual(podSpec(kustomize).tolerations);
    expect(podSpec(helmDefault).priorityClassName).toBe(podSpec(kustomize).priorityClassName);
    const chart = readFileSync(join(DEPLOY, 'helm/nearby/Chart.yaml'), 'utf8');
    expect(chart).toMatch(new RegExp(`^appVersion: "${VERSION.replaceAll('.', '\\.')}"$`, 'm'));
  });

  it('on the ServiceMonitor: off by default in both, the same scrape when enabled', () => {
    expect(kustomize.filter((o) => o.kind === 'ServiceMonitor')).toEqual([]);
    expect(helmDefault.filter((o) => o.kind === 'ServiceMonitor')).toEqual([]);
    const fromKustomize = only(serviceMonitor, 'ServiceMonitor');
    const fromHelm = only(helmCustom, 'ServiceMonitor');
    expect(fromHelm.apiVersion).toBe('monitoring.coreos.com/v1');
    expect(fromKustomize.apiVersion).toBe('monitoring.coreos.com/v1');
    expect(fromHelm['spec']).toEqual(fromKustomize['spec']);
    expect(fromKustomize.metadata.namespace).toBe(NAMESPACE);
    // It selects the metrics Service by its labels and scrapes the Service's named port.
    const service = only(kustomize, 'Service', 'nearby-agent-metrics');
    const spec = fromKustomize['spec'] as { selector: { matchLabels: Record<string, string> }; endpoints: Array<{ port: string }> };
    expect(service.metadata.labels).toMatchObject(spec.selector.matchLabels);
    expect(spec.endpoints.map((e) => e.port)).toEqual(['metrics']);
  });

  it('on the settings users tune, which the chart passes through to the agent', () => {
    const env = Object.fromEntries((agentContainer(helmCustom).env ?? []).map((e) => [e.name, e.value]));
    expect(env).toMatchObject({
      NEARBY_PREFER_CLOSE: 'zone',
      NEARBY_CLUSTER_DOMAIN: 'corp.example',
      NEARBY_ISTIO_ROOT_NAMESPACE: 'mesh-root',
      NEARBY_SERVICE_PROXY_NAME: 'nearby-b',
      NEARBY_SERVICES: 'with-policy',
      LOG_LEVEL: 'debug',
      NEARBY_RESYNC_SECONDS: '30',
      NEARBY_MAX_SERVICES: '1000',
      NEARBY_MAX_BACKENDS: '2000',
      NEARBY_MAX_SLOTS: '4000',
      NEARBY_MAX_REV_NAT: '1024',
      NEARBY_MAX_COUNTERS: '8000',
      NEARBY_API_SERVER_HOST: '172.30.0.1',
      NEARBY_API_SERVER_PORT: '6443',
    });
    const defaultEnv = Object.keys(Object.fromEntries((agentContainer(helmDefault).env ?? []).map((e) => [e.name, 1])));
    expect(defaultEnv).not.toContain('NEARBY_MAX_SERVICES');
    // No override by default: the in-cluster config, as deploy/ has it.
    expect(defaultEnv).not.toContain('NEARBY_API_SERVER_HOST');
    expect(defaultEnv).not.toContain('NEARBY_API_SERVER_PORT');
    expect((agentContainer(kustomize).env ?? []).map((e) => e.name)).not.toContain('NEARBY_API_SERVER_HOST');
    expect((podSpec(helmCustom) as PodSpec & { nodeSelector?: unknown }).nodeSelector).toEqual({ 'kubernetes.io/os': 'linux' });
  });
});

describe('the chart refuses', () => {
  it('a PreferClose meaning the agent does not know', async () => {
    await expect(helmYaml({ preferClose: 'region' })).rejects.toThrow(/preferClose must be subzone or zone, got region/);
  });

  it('an API server host without its port, or a port without its host', async () => {
    await expect(helmYaml({ 'apiServer.host': '172.30.0.1' })).rejects.toThrow(/apiServer.host and apiServer.port go together/);
    await expect(helmYaml({ 'apiServer.port': '6443' })).rejects.toThrow(/apiServer.host and apiServer.port go together/);
  });

  it('a Service selection the agent does not know', async () => {
    await expect(helmYaml({ services: 'some' })).rejects.toThrow(/services must be all or with-policy, got some/);
  });
});

describe('remote secrets (multi-cluster)', () => {
  const env = (objects: readonly KubeObject[]): Record<string, string | undefined> =>
    Object.fromEntries((agentContainer(objects).env ?? []).map((e) => [e.name, e.value]));

  it('deploy/multi-cluster/ grants get/list/watch on Secrets in istio-system only, by Role, to the agent only', () => {
    expect(kustomizeMulti.map((o) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`).sort()).toEqual([
      'Namespace//istio-system',
      'Role/istio-system/nearby-agent-remote-secrets',
      'RoleBinding/istio-system/nearby-agent-remote-secrets',
    ]);
    const rules = rulesOf(kustomizeMulti);
    expect(grants(rules)).toEqual(SECRET_GRANTS);
    for (const rule of rules) expect(rule.resourceNames ?? []).toEqual([]);
    const binding = only(kustomizeMulti, 'RoleBinding');
    expect(binding['roleRef']).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'nearby-agent-remote-secrets' });
    expect(binding['subjects']).toEqual([{ kind: 'ServiceAccount', name: SERVICE_ACCOUNT, namespace: NAMESPACE }]);
  });

  it('the agent reads remote secrets exactly where it may: on with the Role, off without it', () => {
    expect(env(kustomize)).toMatchObject({ NEARBY_MULTI_CLUSTER: 'false', NEARBY_REMOTE_SECRET_NAMESPACE: 'istio-system' });
    expect(env(helmDefault)).toMatchObject({
      NEARBY_MULTI_CLUSTER: 'false',
      NEARBY_REMOTE_SECRET_NAMESPACE: 'istio-system',
      NEARBY_CLUSTER_NAME: 'Kubernetes',
    });
    expect(helmDefault.filter((o) => o.kind === 'Role' || o.kind === 'RoleBinding')).toEqual([]);
    expect(env(helmCustom)).toMatchObject({ NEARBY_MULTI_CLUSTER: 'true', NEARBY_CLUSTER_NAME: 'cluster1' });
    expect(env(helmOff)).toMatchObject({ NEARBY_MULTI_CLUSTER: 'false' });
    expect(helmOff.filter((o) => o.kind === 'Role' || o.kind === 'RoleBinding')).toEqual([]);
    expect(JSON.stringify(rulesOf(helmOff))).not.toMatch(/secret/i);
  });

  // What a remote cluster's admin grants nearby (nearbyctl create-remote-secret): reading, and only the
  // kinds a remote cluster is read for. Its Secret, ServiceAccount and token are the only namespaced objects.
  it('the remote side grants get/list/watch on Services, EndpointSlices and Nodes only, to its own ServiceAccount', () => {
    const remote = remoteRbacManifests('istio-system') as unknown as KubeObject[];
    expect(grants(rulesOf(remote))).toEqual(
      ['/nodes', '/services', 'discovery.k8s.io/endpointslices'].flatMap((r) => READ_VERBS.map((v) => `${r}:${v}`)).sort(),
    );
    expect(remote.filter((o) => o.kind === 'Role' || o.kind === 'RoleBinding')).toEqual([]);
    for (const rule of rulesOf(remote)) expect(rule.resourceNames ?? []).toEqual([]);
    const binding = only(remote, 'ClusterRoleBinding');
    expect(binding['subjects']).toEqual([{ kind: 'ServiceAccount', name: 'nearby-remote-reader', namespace: 'istio-system' }]);
  });

  it('the chart value secretNamespace moves the Role, its binding and the agent together', () => {
    expect(env(helmMovedSecrets)).toMatchObject({ NEARBY_MULTI_CLUSTER: 'true', NEARBY_REMOTE_SECRET_NAMESPACE: 'mesh-secrets' });
    const moved = helmMovedSecrets.filter((o) => o.kind === 'Role' || o.kind === 'RoleBinding');
    expect(moved.map((o) => `${o.kind}/${o.metadata.namespace}`)).toEqual(['Role/mesh-secrets', 'RoleBinding/mesh-secrets']);
    expect(grants(rulesOf(helmMovedSecrets, ['Role']))).toEqual(SECRET_GRANTS);
  });
});

// The uninstall cleanup (the chart's pre-delete hooks, deploy/uninstall/ for kustomize) runs on
// every node with host access, so it is held to the agent's rules: nothing privileged, no host
// namespace, ALL dropped, read-only roots, no more capabilities than the agent's, bpffs as the
// only host path, and an API grant of one verb on one named object.
describe.each(['helm (defaults)', 'helm (every value set)', 'kustomize deploy/uninstall/'] as const)('uninstall cleanup, %s', (name) => {
  const objects = (): KubeObject[] =>
    name === 'kustomize deploy/uninstall/'
      ? cleanupKustomize
      : (name === 'helm (defaults)' ? helmDefaultAll : helmCustomAll).filter((o) => o.metadata.annotations?.['helm.sh/hook']);
  const pods = (): PodSpec[] =>
    objects()
      .filter((o) => o.kind === 'DaemonSet' || o.kind === 'Job')
      .map((o) => (o as unknown as { spec: { template: { spec: PodSpec } } }).spec.template.spec);
  const agent = (): KubeObject[] => (name === 'helm (every value set)' ? helmCustom : name === 'helm (defaults)' ? helmDefault : kustomize);

  it('runs nothing privileged, shares no host namespace, and runs only the cleanup DaemonSet (and the Job that waits for it)', () => {
    expect(pathsWhere(objects(), 'privileged', true)).toEqual([]);
    expect(pathsWhere(objects(), 'allowPrivilegeEscalation', true)).toEqual([]);
    for (const key of ['hostNetwork', 'hostPID', 'hostIPC']) expect(pathsWhere(objects(), key, true)).toEqual([]);
    const workloads = objects().filter((o) =>
      ['Pod', 'Deployment', 'StatefulSet', 'ReplicaSet', 'Job', 'CronJob', 'DaemonSet'].includes(o.kind),
    );
    expect(workloads.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(
      name.startsWith('helm') ? ['DaemonSet/nearby-cleanup', 'Job/nearby-cleanup-wait'] : ['DaemonSet/nearby-cleanup'],
    );
  });

  it("drops ALL in every container with a read-only root; the cleanup has exactly the agent's security context, the rest adds nothing and is not root", () => {
    for (const pod of pods()) {
      expect(pod.securityContext ?? {}).toEqual({});
      for (const c of [...(pod.initContainers ?? []), ...pod.containers]) {
        expect(c.securityContext, c.name).toMatchObject({
          privileged: false,
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ['ALL'] },
          seccompProfile: { type: 'RuntimeDefault' },
        });
        if (c.name === 'cleanup') expect(c.securityContext).toEqual(agentContainer(agent()).securityContext);
        else {
          expect(c.securityContext, c.name).toMatchObject({ runAsNonRoot: true });
          expect((c.securityContext?.['capabilities'] as { add?: string[] }).add, c.name).toBeUndefined();
        }
        expect(c.resources?.limits?.['memory'], c.name).toMatch(/^\d+Mi$/);
      }
    }
  });

  it("mounts only the agent's bpffs from the host, read-write, into the cleanup container alone", () => {
    const cleanup = only(objects(), 'DaemonSet', 'nearby-cleanup') as unknown as { spec: { template: { spec: PodSpec } } };
    const pod = cleanup.spec.template.spec;
    expect(pod.volumes).toEqual([{ name: 'bpffs', hostPath: { path: '/sys/fs/bpf', type: 'Directory' } }]);
    expect(HOST_PATHS['/sys/fs/bpf']).toBe(false);
    expect(pod.initContainers?.map((c) => [c.name, c.volumeMounts])).toEqual([
      ['cleanup', agentContainer(agent()).volumeMounts!.filter((m) => m.name === 'bpffs')],
    ]);
    expect(pod.containers.map((c) => c.volumeMounts ?? [])).toEqual([[]]);
    expect(pod.automountServiceAccountToken).toBe(false);
    for (const p of pods()) expect(p.volumes?.filter((v) => !v.hostPath) ?? []).toEqual([]);
    expect(objects().filter((o) => o.kind === 'Secret')).toEqual([]);
  });

  it('grants only get on the one cleanup DaemonSet, by Role, to the Job alone', () => {
    expect(objects().filter((o) => o.kind.startsWith('Cluster'))).toEqual([]);
    if (name === 'kustomize deploy/uninstall/') {
      expect(rulesOf(objects())).toEqual([]);
      return;
    }
    expect(rulesOf(objects())).toEqual([
      { apiGroups: ['apps'], resources: ['daemonsets'], resourceNames: ['nearby-cleanup'], verbs: ['get'] },
    ]);
    expect(only(objects(), 'RoleBinding')['subjects']).toEqual([{ kind: 'ServiceAccount', name: 'nearby-cleanup', namespace: NAMESPACE }]);
    const job = only(objects(), 'Job') as unknown as { spec: { template: { spec: PodSpec } } };
    expect(job.spec.template.spec.serviceAccountName).toBe('nearby-cleanup');
  });

  it('reaches every node the agent reaches: the same tolerations, node selector and priority', () => {
    const cleanup = (only(objects(), 'DaemonSet', 'nearby-cleanup') as unknown as { spec: { template: { spec: PodSpec } } }).spec.template
      .spec as PodSpec & { nodeSelector?: unknown };
    const agentPod = podSpec(agent()) as PodSpec & { nodeSelector?: unknown };
    expect(cleanup.tolerations).toEqual(agentPod.tolerations);
    expect(cleanup.nodeSelector).toEqual(agentPod.nodeSelector);
    expect(cleanup.priorityClassName).toBe(agentPod.priorityClassName);
  });
});

describe('helm and kustomize agree on the uninstall cleanup', () => {
  it("on the cleanup DaemonSet's pod, field for field", () => {
    const spec = (objects: readonly KubeObject[]): unknown =>
      (only(objects, 'DaemonSet', 'nearby-cleanup') as unknown as { spec: { template: { spec: unknown } } }).spec.template.spec;
    expect(spec(helmDefaultAll)).toEqual(spec(cleanupKustomize));
  });
});
