/*
 * Remote clusters' credentials, as `istioctl create-remote-secret` writes them
 * (docs/multi-cluster.md, "Remote secrets"): a Secret labelled istio/multiCluster: "true", one
 * data key per cluster name, each holding a kubeconfig. Reading one never throws: every cluster
 * that cannot be used comes back as a problem naming the Secret and the key.
 */
import { KubeConfig } from '@kubernetes/client-node';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export const MULTI_CLUSTER_LABEL = 'istio/multiCluster';
export const MULTI_CLUSTER_SELECTOR = `${MULTI_CLUSTER_LABEL}=true`;
/** istioctl annotates its Secrets with the cluster they give access to. */
export const CLUSTER_ANNOTATION = 'networking.istio.io/cluster';

/** What a Secret data key may be (the API's own rule), so also what a cluster name may be. */
const CLUSTER_NAME = /^[-._a-zA-Z0-9]+$/;

export interface RemoteClusterCredentials {
  readonly cluster: string;
  /** "namespace/name" of the Secret. */
  readonly secret: string;
  /** The kubeconfig as written: a change to it means a new connection. */
  readonly kubeconfig: string;
  readonly kubeConfig: KubeConfig;
}

export interface RemoteSecretProblem {
  readonly secret: string;
  /** The data key, when the problem is one cluster's. */
  readonly cluster?: string;
  readonly message: string;
}

export interface RemoteSecretReading {
  readonly clusters: readonly RemoteClusterCredentials[];
  readonly problems: readonly RemoteSecretProblem[];
}

function secretName(raw: unknown): string {
  const metadata = isRecord(raw) && isRecord(raw['metadata']) ? raw['metadata'] : {};
  const name = typeof metadata['name'] === 'string' ? metadata['name'] : '?';
  const namespace = typeof metadata['namespace'] === 'string' ? metadata['namespace'] : '';
  return namespace ? `${namespace}/${name}` : name;
}

/** Turns one kubeconfig text into a client config, or says why it cannot be used. */
export function readRemoteKubeconfig(text: string): KubeConfig | string {
  const kc = new KubeConfig();
  try {
    kc.loadFromString(text);
  } catch (error) {
    return `not a kubeconfig: ${error instanceof Error ? error.message : String(error)}`;
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster?.server) return 'the kubeconfig has no current context with a cluster server';
  const user = kc.getCurrentUser();
  // A Secret must not make the agent run programs or use plugins: token or client certificates only.
  if (user?.exec || user?.authProvider) return 'the kubeconfig user runs an exec or auth-provider plugin, which remote secrets may not';
  return kc;
}

/**
 * The clusters one Secret gives access to. `data` values are base64 (as the API serves them);
 * `stringData` (as istioctl prints them) is read too, for Secrets read from files.
 */
export function readRemoteSecret(raw: unknown): RemoteSecretReading {
  const secret = secretName(raw);
  if (!isRecord(raw)) return { clusters: [], problems: [{ secret, message: 'not an object' }] };
  const entries = new Map<string, string>();
  const problems: RemoteSecretProblem[] = [];
  const data = raw['data'];
  if (isRecord(data)) {
    for (const [key, value] of Object.entries(data)) {
      if (typeof value !== 'string') problems.push({ secret, cluster: key, message: 'data value is not a string' });
      else entries.set(key, Buffer.from(value, 'base64').toString('utf8'));
    }
  }
  const stringData = raw['stringData'];
  if (isRecord(stringData)) for (const [key, value] of Object.entries(stringData)) if (typeof value === 'string') entries.set(key, value);
  if (entries.size === 0 && problems.length === 0) problems.push({ secret, message: 'holds no data key (one per cluster name)' });

  const clusters: RemoteClusterCredentials[] = [];
  for (const [cluster, kubeconfig] of [...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (!CLUSTER_NAME.test(cluster)) {
      problems.push({ secret, cluster, message: `${JSON.stringify(cluster)} is not a valid cluster name` });
      continue;
    }
    const kubeConfig = readRemoteKubeconfig(kubeconfig);
    if (typeof kubeConfig === 'string') problems.push({ secret, cluster, message: kubeConfig });
    else clusters.push({ cluster, secret, kubeconfig, kubeConfig });
  }
  return { clusters, problems };
}
