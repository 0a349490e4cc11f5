/*
 * The agent's options: each one a flag and an environment variable (the DaemonSet sets env from
 * the downward API and a ConfigMap; a person at a shell uses flags). A flag wins over its env.
 */
import { isIP } from 'node:net';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { MapSizes } from '../../pkg/datapath/index.js';
import { DEFAULT_PLAN_OPTIONS, type ServiceSelection, SPILLOVER_SCOPES, type SpilloverScope } from '../../pkg/planner/index.js';
import { DEFAULT_OPTIONAL_KIND_CHECK_MS, DEFAULT_REMOTE_SECRET_NAMESPACE, type ApiServerOverride } from '../../pkg/source/index.js';
import { isClusterDomain, isNamespaceName, isServiceProxyName, isServiceSelection } from '../plan-flags.js';
import { StartupError } from '../startup-error.js';
import { parseDurationMs } from './duration.js';

export interface AgentOptions {
  readonly nodeName: string;
  readonly kubeconfig?: string;
  /** The API server's address for the in-cluster credentials, instead of KUBERNETES_SERVICE_HOST/PORT. */
  readonly apiServer?: ApiServerOverride;
  /** Read manifests from here instead of the API server. */
  readonly stateDir?: string;
  readonly cgroupPath: string;
  readonly bpffs: string;
  /** <bpffs>/nearby/<node>: never shared between nodes. */
  readonly pinRoot: string;
  readonly sizes: Partial<MapSizes>;
  readonly listen: string;
  readonly logLevel: string;
  readonly preferClose: 'subzone' | 'zone';
  /** For DestinationRule hosts: name.namespace.svc.<clusterDomain>. */
  readonly clusterDomain: string;
  /** Istio's root namespace: a DestinationRule there applies to every namespace's Services. */
  readonly rootNamespace: string;
  /** This cluster's name: topology.istio.io/cluster of local endpoints (docs/multi-cluster.md). */
  readonly clusterName: string;
  /** Read remote clusters from the labelled Secrets of this namespace; undefined: multi-cluster off. */
  readonly remoteSecretNamespace?: string;
  /** nearby's value of the service.kubernetes.io/service-proxy-name label. */
  readonly serviceProxyName: string;
  /** Which unlabelled Services to take over: every one, or those with a locality policy. */
  readonly services: ServiceSelection;
  /** Which FAILOVER Services without a nearby.io/spillover annotation spill over gradually. */
  readonly spillover: SpilloverScope;
  readonly resyncMs: number;
  /** How often to look whether an optional kind's CRD (DestinationRule) appeared or went. */
  readonly crdCheckMs: number;
  /** Waits between attempts to reach the API server at start: doubling from firstMs up to maxMs. */
  readonly apiRetry: { readonly firstMs: number; readonly maxMs: number };
  readonly bpfObject?: string;
  /**
   * Stop rewriting every Service nearby does not claim exclusively once the agent's heartbeat is
   * older than this; 0: never (docs/concepts.md, "Fail-open when the agent is gone").
   */
  readonly failOpenAfterMs: number;
}

/** Shorter bounds would trip on a slow event loop; an agent restart takes seconds, not this. */
export const MIN_FAIL_OPEN_AFTER_MS = 500;

interface OptionSpec {
  readonly env: string;
  readonly help: string;
  readonly default?: string;
}

const OPTIONS = {
  'node-name': { env: 'NODE_NAME', help: 'this node (required; from the downward API)' },
  kubeconfig: { env: 'KUBECONFIG', help: 'kubeconfig file; in-cluster config when unset' },
  'api-server-host': {
    env: 'NEARBY_API_SERVER_HOST',
    help: "the API server's address (IP or DNS name) for the in-cluster credentials, instead of KUBERNETES_SERVICE_HOST",
  },
  'api-server-port': { env: 'NEARBY_API_SERVER_PORT', help: 'its port, with --api-server-host (e.g. 6443)' },
  'state-dir': { env: 'NEARBY_STATE_DIR', help: 'read manifests from this directory instead of the API server' },
  'cgroup-path': { env: 'NEARBY_CGROUP_PATH', help: "the node's cgroup v2 directory to attach to (required)" },
  bpffs: { env: 'NEARBY_BPFFS', help: 'bpffs mount; pins go under <bpffs>/nearby/<node>', default: '/sys/fs/bpf' },
  'max-services': { env: 'NEARBY_MAX_SERVICES', help: 'services map size (VIP, port, protocol entries)' },
  'max-backends': { env: 'NEARBY_MAX_BACKENDS', help: 'backends map size' },
  'max-slots': { env: 'NEARBY_MAX_SLOTS', help: 'slots map size' },
  'max-rev-nat': { env: 'NEARBY_MAX_REV_NAT', help: 'reverse-translation map size' },
  'max-counters': { env: 'NEARBY_MAX_COUNTERS', help: 'counters map size' },
  listen: { env: 'NEARBY_LISTEN', help: 'metrics and health address', default: ':9790' },
  'log-level': { env: 'LOG_LEVEL', help: 'trace, debug, info, warn, error, fatal', default: 'info' },
  'prefer-close': {
    env: 'NEARBY_PREFER_CLOSE',
    help: 'PreferClose means subzone (seed, Kmesh) or zone (Istio >=1.27)',
    default: 'subzone',
  },
  'cluster-domain': {
    env: 'NEARBY_CLUSTER_DOMAIN',
    help: "the cluster's DNS domain, to match DestinationRule hosts (name.namespace.svc.<domain>)",
    default: DEFAULT_PLAN_OPTIONS.clusterDomain,
  },
  'istio-root-namespace': {
    env: 'NEARBY_ISTIO_ROOT_NAMESPACE',
    help: "Istio's root namespace: its DestinationRules apply to every namespace's Services",
    default: DEFAULT_PLAN_OPTIONS.rootNamespace,
  },
  'cluster-name': {
    env: 'NEARBY_CLUSTER_NAME',
    help: "this cluster's name (topology.istio.io/cluster of its endpoints), as other clusters' remote secrets call it",
    default: DEFAULT_PLAN_OPTIONS.localCluster,
  },
  'multi-cluster': {
    env: 'NEARBY_MULTI_CLUSTER',
    // Off unless asked for: reading Secrets needs the Role of deploy/multi-cluster/ or the chart.
    help: 'read remote clusters from Secrets labelled istio/multiCluster=true (true or false)',
    default: 'false',
  },
  'remote-secret-namespace': {
    env: 'NEARBY_REMOTE_SECRET_NAMESPACE',
    help: 'the one namespace whose remote secrets are read',
    default: DEFAULT_REMOTE_SECRET_NAMESPACE,
  },
  'service-proxy-name': {
    env: 'NEARBY_SERVICE_PROXY_NAME',
    help: 'Services labelled service.kubernetes.io/service-proxy-name with another value are left alone',
    default: DEFAULT_PLAN_OPTIONS.serviceProxyName,
  },
  services: {
    env: 'NEARBY_SERVICES',
    help: 'all: every Service; with-policy: only those with a locality policy (the rest to kube-proxy)',
    default: DEFAULT_PLAN_OPTIONS.services,
  },
  spillover: {
    env: 'NEARBY_SPILLOVER',
    help: 'which FAILOVER Services without a nearby.io/spillover annotation spill over gradually: off, destination-rules, all',
    default: 'destination-rules',
  },
  'resync-seconds': { env: 'NEARBY_RESYNC_SECONDS', help: 'full reconcile this often even without changes; 0 disables', default: '60' },
  'crd-check-seconds': {
    env: 'NEARBY_CRD_CHECK_SECONDS',
    help: 'how often to look whether the DestinationRule CRD was installed or removed',
    default: String(DEFAULT_OPTIONAL_KIND_CHECK_MS / 1000),
  },
  'api-retry-ms': {
    env: 'NEARBY_API_RETRY_MS',
    help: 'first wait before retrying the API server (at start, and watch reconnects); doubles per attempt',
    default: '1000',
  },
  'api-retry-max-ms': { env: 'NEARBY_API_RETRY_MAX_MS', help: 'longest wait between attempts to reach the API server', default: '30000' },
  'fail-open-after': {
    env: 'NEARBY_FAIL_OPEN_AFTER',
    help: 'stop rewriting Services kube-proxy also serves when the agent is gone this long, e.g. 60s; off unless set',
    default: 'off',
  },
  'bpf-object': { env: 'NEARBY_BPF_OBJECT', help: 'compiled BPF object; defaults to build/bpf/nearby.bpf.o' },
} as const satisfies Record<string, OptionSpec>;

type OptionName = keyof typeof OPTIONS;

const SIZE_FLAGS: ReadonlyArray<readonly [OptionName, keyof MapSizes]> = [
  ['max-services', 'services'],
  ['max-backends', 'backends'],
  ['max-slots', 'slots'],
  ['max-rev-nat', 'revNat'],
  ['max-counters', 'counters'],
];

const LOG_LEVELS = new Set(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']);
/** A Kubernetes node name (DNS subdomain); it becomes a path component of the pin root. */
/** A Secret data key, which is what names a cluster in remote secrets. */
const CLUSTER_NAME = /^[-._a-zA-Z0-9]+$/;
const NODE_NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

export function isNodeName(text: string): boolean {
  return NODE_NAME.test(text);
}

/** <bpffs>/nearby/<node>: where the agent pins, and what --cleanup clears. */
export function pinRootFor(bpffs: string, nodeName: string): string {
  return join(bpffs, 'nearby', nodeName);
}

export function agentUsage(): string {
  const lines = Object.entries(OPTIONS).map(([flag, spec]) => {
    const def = 'default' in spec ? ` (default ${spec.default})` : '';
    return `  --${flag.padEnd(20)} ${spec.env.padEnd(24)} ${spec.help}${def}`;
  });
  return ['usage: nearby-agent [flags]   (each flag can also be set by its environment variable)', ...lines].join('\n');
}

/** A DNS subdomain (RFC 1123), as Kubernetes names hosts. */
const DNS_NAME = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$/i;

/** --api-server-host and --api-server-port, both or neither: a half-given address would quietly mix with the Service variables. */
function apiServerOverride(
  host: string | undefined,
  portText: string | undefined,
  bad: (name: OptionName, why: string) => StartupError,
): ApiServerOverride | undefined {
  if (host === undefined && portText === undefined) return undefined;
  if (host === undefined) throw bad('api-server-port', 'needs --api-server-host/NEARBY_API_SERVER_HOST too');
  if (portText === undefined) throw bad('api-server-host', 'needs --api-server-port/NEARBY_API_SERVER_PORT too');
  if (isIP(host) === 0 && !DNS_NAME.test(host))
    throw bad('api-server-host', `${JSON.stringify(host)} is neither an IP address nor a DNS name (no scheme or port: those are separate)`);
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port < 1 || port > 65535)
    throw bad('api-server-port', `expected a port from 1 to 65535, got ${JSON.stringify(portText)}`);
  return { host, port };
}

/** Returns undefined for --help. Throws StartupError for anything wrong. */
export function parseAgentOptions(argv: readonly string[], env: NodeJS.ProcessEnv): AgentOptions | undefined {
  let values: Record<string, string | boolean | undefined>;
  try {
    const options = Object.fromEntries(Object.keys(OPTIONS).map((name) => [name, { type: 'string' as const }]));
    ({ values } = parseArgs({
      args: [...argv],
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new StartupError('usage', `${(error as Error).message}; see --help`);
  }
  if (values['help']) return undefined;

  const get = (name: OptionName): string | undefined => {
    const flag = values[name];
    if (typeof flag === 'string' && flag !== '') return flag;
    const fromEnv = env[OPTIONS[name].env];
    if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
    const spec: OptionSpec = OPTIONS[name];
    return spec.default;
  };
  const bad = (name: OptionName, why: string): StartupError => new StartupError('bad-option', `--${name}/${OPTIONS[name].env}: ${why}`);
  const positive = (name: OptionName): number | undefined => {
    const text = get(name);
    if (text === undefined) return undefined;
    const n = Number(text);
    if (!Number.isInteger(n) || n < 1) throw bad(name, `expected a positive integer, got ${JSON.stringify(text)}`);
    return n;
  };

  const nodeName = get('node-name');
  if (!nodeName)
    throw new StartupError('missing-node-name', '--node-name or NODE_NAME is required (set it from spec.nodeName with the downward API)');
  if (!NODE_NAME.test(nodeName)) throw bad('node-name', `${JSON.stringify(nodeName)} is not a valid node name`);
  const cgroupPath = get('cgroup-path');
  if (!cgroupPath)
    throw new StartupError(
      'missing-cgroup',
      "--cgroup-path or NEARBY_CGROUP_PATH is required: the node's cgroup v2 directory to attach to",
    );

  const preferClose = get('prefer-close');
  if (preferClose !== 'subzone' && preferClose !== 'zone')
    throw bad('prefer-close', `expected subzone or zone, got ${JSON.stringify(preferClose)}`);
  const logLevel = get('log-level') ?? 'info';
  if (!LOG_LEVELS.has(logLevel)) throw bad('log-level', `expected one of ${[...LOG_LEVELS].join(', ')}`);
  const clusterDomain = get('cluster-domain') ?? DEFAULT_PLAN_OPTIONS.clusterDomain;
  if (!isClusterDomain(clusterDomain)) throw bad('cluster-domain', `${JSON.stringify(clusterDomain)} is not a DNS domain`);
  const rootNamespace = get('istio-root-namespace') ?? DEFAULT_PLAN_OPTIONS.rootNamespace;
  if (!isNamespaceName(rootNamespace)) throw bad('istio-root-namespace', `${JSON.stringify(rootNamespace)} is not a namespace name`);
  const clusterName = get('cluster-name') ?? DEFAULT_PLAN_OPTIONS.localCluster;
  if (!CLUSTER_NAME.test(clusterName))
    throw bad('cluster-name', `${JSON.stringify(clusterName)} is not a cluster name (letters, digits, -, _, .)`);
  const multiCluster = get('multi-cluster') ?? 'false';
  if (multiCluster !== 'true' && multiCluster !== 'false')
    throw bad('multi-cluster', `expected true or false, got ${JSON.stringify(multiCluster)}`);
  const remoteSecretNamespace = get('remote-secret-namespace') ?? DEFAULT_REMOTE_SECRET_NAMESPACE;
  if (!isNamespaceName(remoteSecretNamespace))
    throw bad('remote-secret-namespace', `${JSON.stringify(remoteSecretNamespace)} is not a namespace name`);
  const serviceProxyName = get('service-proxy-name') ?? DEFAULT_PLAN_OPTIONS.serviceProxyName;
  if (!isServiceProxyName(serviceProxyName)) throw bad('service-proxy-name', `${JSON.stringify(serviceProxyName)} is not a label value`);
  const services = get('services') ?? DEFAULT_PLAN_OPTIONS.services;
  if (!isServiceSelection(services)) throw bad('services', `expected all or with-policy, got ${JSON.stringify(services)}`);
  const spillover = get('spillover') ?? 'destination-rules';
  if (!(SPILLOVER_SCOPES as readonly string[]).includes(spillover))
    throw bad('spillover', `expected ${SPILLOVER_SCOPES.join(', ')}, got ${JSON.stringify(spillover)}`);
  const resyncText = get('resync-seconds') ?? '60';
  const resyncSeconds = Number(resyncText);
  if (!Number.isFinite(resyncSeconds) || resyncSeconds < 0)
    throw bad('resync-seconds', `expected seconds >= 0, got ${JSON.stringify(resyncText)}`);

  const crdCheckSeconds = positive('crd-check-seconds') ?? DEFAULT_OPTIONAL_KIND_CHECK_MS / 1000;

  const apiRetry = { firstMs: positive('api-retry-ms') ?? 1000, maxMs: positive('api-retry-max-ms') ?? 30_000 };
  if (apiRetry.maxMs < apiRetry.firstMs) throw bad('api-retry-max-ms', `${apiRetry.maxMs} is below --api-retry-ms ${apiRetry.firstMs}`);

  const failOpenText = get('fail-open-after') ?? 'off';
  const failOpenAfterMs = parseDurationMs(failOpenText);
  if (failOpenAfterMs === undefined)
    throw bad('fail-open-after', `expected off or a duration such as 500ms, 30s or 2m, got ${JSON.stringify(failOpenText)}`);
  if (failOpenAfterMs !== 0 && failOpenAfterMs < MIN_FAIL_OPEN_AFTER_MS)
    throw bad('fail-open-after', `${failOpenText} is below ${MIN_FAIL_OPEN_AFTER_MS}ms: the agent could not renew its heartbeat in time`);

  const sizes: Partial<Record<keyof MapSizes, number>> = {};
  for (const [flag, field] of SIZE_FLAGS) {
    const n = positive(flag);
    if (n !== undefined) sizes[field] = n;
  }
  const bpffs = get('bpffs') ?? '/sys/fs/bpf';
  const kubeconfig = get('kubeconfig');
  const stateDir = get('state-dir');
  const apiServer = apiServerOverride(get('api-server-host'), get('api-server-port'), bad);
  if (apiServer && (kubeconfig || stateDir))
    throw bad(
      'api-server-host',
      `applies to the in-cluster config only, not with ${kubeconfig ? '--kubeconfig/KUBECONFIG' : '--state-dir'} (a kubeconfig names its own server)`,
    );
  const bpfObject = get('bpf-object');
  return {
    nodeName,
    cgroupPath,
    bpffs,
    pinRoot: pinRootFor(bpffs, nodeName),
    sizes,
    listen: get('listen') ?? ':9790',
    logLevel,
    preferClose,
    clusterDomain,
    rootNamespace,
    clusterName,
    ...(multiCluster === 'true' ? { remoteSecretNamespace } : {}),
    serviceProxyName,
    services,
    spillover: spillover as SpilloverScope,
    resyncMs: Math.round(resyncSeconds * 1000),
    crdCheckMs: crdCheckSeconds * 1000,
    apiRetry,
    failOpenAfterMs,
    ...(kubeconfig ? { kubeconfig } : {}),
    ...(apiServer ? { apiServer } : {}),
    ...(stateDir ? { stateDir } : {}),
    ...(bpfObject ? { bpfObject } : {}),
  };
}
