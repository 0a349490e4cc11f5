/*
 * `nearbyctl create-remote-secret` (docs/nearbyctl.md, docs/multi-cluster.md): what a remote
 * cluster needs so that another cluster's nearby agents can read it, and the Secret those agents
 * read, in the format `istioctl create-remote-secret` writes, so either tool's Secrets work.
 *
 * The remote side gets a ServiceAccount that may only get/list/watch Services, EndpointSlices and
 * Nodes, and a long-lived token for it; the Secret holds a kubeconfig with that token.
 */
import { readFileSync } from 'node:fs';
import { ApiException, KubernetesObjectApi, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { CLUSTER_ANNOTATION, kindInfo, MULTI_CLUSTER_LABEL, REMOTE_KINDS } from '../../pkg/source/index.js';

export const REMOTE_READER = 'nearby-remote-reader';
/** The token Secret of REMOTE_READER, filled in by the remote cluster's token controller. */
export const REMOTE_READER_TOKEN = `${REMOTE_READER}-token`;
const LABELS = { 'app.kubernetes.io/name': 'nearby' };
const READ = ['get', 'list', 'watch'];

/** A plain object as it is printed and sent; client-node's classes are not needed to send one. */
export interface Manifest {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: {
    readonly name: string;
    readonly namespace?: string;
    readonly labels?: Record<string, string>;
    readonly annotations?: Record<string, string>;
  };
  readonly [field: string]: unknown;
}

/** One read-only rule per API group of the kinds the agent reads a remote cluster for (REMOTE_KINDS). */
function remoteReadRules(): Array<{ apiGroups: string[]; resources: string[]; verbs: string[] }> {
  const byGroup = new Map<string, string[]>();
  for (const kind of REMOTE_KINDS) {
    const { group, plural } = kindInfo(kind);
    byGroup.set(group, [...(byGroup.get(group) ?? []), plural]);
  }
  return [...byGroup].map(([group, resources]) => ({ apiGroups: [group], resources, verbs: READ }));
}

/** The remote cluster's side: read-only access to the kinds a remote cluster is read for. */
export function remoteRbacManifests(namespace: string): Manifest[] {
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: REMOTE_READER, namespace, labels: LABELS } },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: REMOTE_READER, labels: LABELS },
      rules: remoteReadRules(),
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: REMOTE_READER, labels: LABELS },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: REMOTE_READER },
      subjects: [{ kind: 'ServiceAccount', name: REMOTE_READER, namespace }],
    },
    {
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'kubernetes.io/service-account-token',
      metadata: {
        name: REMOTE_READER_TOKEN,
        namespace,
        labels: LABELS,
        annotations: { 'kubernetes.io/service-account.name': REMOTE_READER },
      },
    },
  ];
}

export interface RemoteAccess {
  /** The cluster name: the Secret's data key and topology.istio.io/cluster of its endpoints. */
  readonly name: string;
  readonly namespace: string;
  readonly server: string;
  /** PEM, as the remote API server's certificate authority. */
  readonly caPem: string;
  readonly token: string;
}

/** The Secret to apply on the local cluster, as istioctl create-remote-secret prints it. */
export function remoteSecretManifest(access: RemoteAccess): Manifest {
  const kubeconfig = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      { name: access.name, cluster: { server: access.server, 'certificate-authority-data': Buffer.from(access.caPem).toString('base64') } },
    ],
    users: [{ name: access.name, user: { token: access.token } }],
    contexts: [{ name: access.name, context: { cluster: access.name, user: access.name } }],
    'current-context': access.name,
    preferences: {},
  };
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: `istio-remote-secret-${access.name}`,
      namespace: access.namespace,
      labels: { [MULTI_CLUSTER_LABEL]: 'true' },
      annotations: { [CLUSTER_ANNOTATION]: access.name },
    },
    stringData: { [access.name]: stringify(kubeconfig) },
  };
}

export function toYaml(manifests: readonly Manifest[]): string {
  return manifests.map((m) => stringify(m).trimEnd()).join('\n---\n');
}

export class RemoteSecretError extends Error {
  constructor(message: string, options?: { cause: unknown }) {
    super(message, options);
    this.name = 'RemoteSecretError';
  }
}

async function createOrKeep(api: KubernetesObjectApi, manifest: Manifest): Promise<void> {
  try {
    await api.create(manifest);
  } catch (error) {
    if (error instanceof ApiException && error.code === 409) {
      // Already there (a second run): bring it back to what nearby needs.
      await api.replace(manifest);
      return;
    }
    const what = `${manifest.kind} ${manifest.metadata.name}`;
    throw new RemoteSecretError(
      `creating ${what} on the remote cluster failed: ${error instanceof Error ? error.message : String(error)}`,
      {
        cause: error,
      },
    );
  }
}

function caOf(kc: KubeConfig): string {
  const cluster = kc.getCurrentCluster();
  if (cluster?.caData) return Buffer.from(cluster.caData, 'base64').toString('utf8');
  if (cluster?.caFile) return readFileSync(cluster.caFile, 'utf8');
  throw new RemoteSecretError('the remote context has no certificate authority (certificate-authority or -data)');
}

export interface CreateOptions {
  readonly name: string;
  readonly namespace: string;
  /** The remote API server as the local cluster's nodes reach it; the context's by default. */
  readonly server?: string;
  readonly tokenTimeoutMs?: number;
}

/**
 * Creates the remote side on the cluster `kc` points at, waits for its token, and returns the
 * Secret to apply on the local cluster.
 */
export async function createRemoteSecret(kc: KubeConfig, options: CreateOptions): Promise<Manifest> {
  const server = options.server ?? kc.getCurrentCluster()?.server;
  if (!server) throw new RemoteSecretError('the remote context names no server');
  const api = KubernetesObjectApi.makeApiClient(kc);
  const namespace: Manifest = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: options.namespace } };
  try {
    await api.read(namespace);
  } catch {
    await createOrKeep(api, namespace);
  }
  for (const manifest of remoteRbacManifests(options.namespace)) await createOrKeep(api, manifest);

  const deadline = Date.now() + (options.tokenTimeoutMs ?? 30_000);
  const tokenSecret: Manifest = { apiVersion: 'v1', kind: 'Secret', metadata: { name: REMOTE_READER_TOKEN, namespace: options.namespace } };
  for (;;) {
    const read: KubernetesObject & { data?: Record<string, string> } = await api.read(tokenSecret);
    const token = read.data?.['token'];
    if (token) {
      return remoteSecretManifest({
        name: options.name,
        namespace: options.namespace,
        server,
        caPem: caOf(kc),
        token: Buffer.from(token, 'base64').toString('utf8'),
      });
    }
    if (Date.now() > deadline) {
      throw new RemoteSecretError(
        `the remote cluster did not fill in the token of Secret ${options.namespace}/${REMOTE_READER_TOKEN} (is its controller-manager running?)`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
