/*
 * nearbyctl's commands, as a function of argv (and env) so tests run them in-process. Exit
 * codes: 0 ok, 1 the thing asked about does not exist, 2 usage or environment problems.
 */
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { buildSnapshot } from '../../pkg/model/index.js';
import { DEFAULT_PLAN_OPTIONS, plan, type PlanOptions, SPILLOVER_SCOPES, type SpilloverScope } from '../../pkg/planner/index.js';
import { isClusterDomain, isNamespaceName, isServiceProxyName, isServiceSelection } from '../plan-flags.js';
import { STARTUP_EXIT_CODE, StartupError } from '../startup-error.js';
import { explainService } from './explain.js';
import { failOpenLines } from './fail-open-view.js';
import { LAB_COMMANDS, labClusterSource, runLabCommand } from './lab-commands.js';
import { mapsJson, mapsText, namesFrom, pinRootOf, type MapNames } from './maps.js';
import { nodeForExplain, nodeForMaps, nodeForUninstall } from './node-choice.js';
import { compareWithPins, readPins } from './pinned-check.js';
import { planJson, planText } from './plan-view.js';
import { packageVersion } from './version.js';

export interface CtlIo {
  out(text: string): void;
  err(text: string): void;
}

const USAGE = `usage:
  nearbyctl plan [SOURCE] --node NAME [--json] [PLAN FLAGS]
  nearbyctl explain NAMESPACE/SERVICE [SOURCE] [--node NAME] [--bpffs PATH] [PLAN FLAGS]
  nearbyctl maps [SOURCE | --names] [--node NAME] [--bpffs /sys/fs/bpf] [--json]
                   with a SOURCE (--names: the default cluster, in a pod its own), Services
                   and nodes by name
  nearbyctl uninstall [--node NAME] [--bpffs /sys/fs/bpf]
                   on a node (root): detaches every program nearby attached and removes the
                   pins it owns; foreign pins are left and reported. Exit 0: nothing of nearby
                   is left; 1: something is (the log names the path); 2: usage
  nearbyctl wait-cleanup NAMESPACE/NAME [--kubeconfig FILE] [--timeout SECONDS]
                   waits until the uninstall DaemonSet NAME is Ready on every node it runs
                   on (the chart's pre-delete Job). Exit 0: confirmed; 1: not in time
  nearbyctl lab up|apply|delete|label|exec|fault|get|status|wait|down ... (nearbyctl lab --help)
  nearbyctl demo [--files|--real-nodes [--install kustomize|helm]] [--experiment 000|003|004] [--name LAB]
                   a seed's experiment on a lab cluster (root): 000, the default,
                   seeds 000/002's locality steps; 003 (make demo-003), seed 003's
                   DestinationRules; 004 (make demo-004), seed 004's two clusters
                   and 70/20/10 across them. On a real control plane with the seed's kubectl
                   commands (make demo-cluster), or with --files on the lab's own
                   controllers (000 only; make demo), or --real-nodes: real kubelets with
                   nearby applied from deploy/ as a DaemonSet (000 only; make demo-real-nodes),
                   by --install kustomize (the default) or helm (deploy/helm/nearby).
                   --name: the lab's name instead of the seed's cluster name
  nearbyctl create-remote-secret --name NAME [--context CTX] [--kubeconfig FILE]
                   [--namespace istio-system] [--server URL] [--print-remote-rbac]
                   gives the cluster of CTX a read-only ServiceAccount and prints the
                   Secret (istioctl's format) to apply on the cluster that reads it;
                   --print-remote-rbac only prints the remote side's manifests
--node defaults to $NODE_NAME; for maps and uninstall, else to the only node pinned under <bpffs>/nearby/.
--bpffs defaults to $NEARBY_BPFFS, else /sys/fs/bpf.
SOURCE: --state DIR (manifests), or the cluster: --kubeconfig FILE (else $KUBECONFIG, else the
in-cluster config in a pod, else ~/.kube/config), --context NAME, --timeout SECONDS (default 30),
or --lab NAME: a running lab's cluster (a file-backed lab's cluster directory, else its kubeconfig).
PLAN FLAGS, as the agent takes them: --prefer-close subzone|zone, --cluster-domain DOMAIN
(default ${DEFAULT_PLAN_OPTIONS.clusterDomain}), --istio-root-namespace NAMESPACE (default ${DEFAULT_PLAN_OPTIONS.rootNamespace}),
--service-proxy-name NAME (default ${DEFAULT_PLAN_OPTIONS.serviceProxyName}), --services all|with-policy (default ${DEFAULT_PLAN_OPTIONS.services}),
--spillover off|destination-rules|all (default destination-rules).
--version prints the version of nearbyctl.`;

const OPTIONS = {
  state: { type: 'string' },
  lab: { type: 'string' },
  kubeconfig: { type: 'string' },
  context: { type: 'string' },
  timeout: { type: 'string' },
  node: { type: 'string' },
  json: { type: 'boolean' },
  'prefer-close': { type: 'string' },
  'cluster-domain': { type: 'string' },
  'istio-root-namespace': { type: 'string' },
  'service-proxy-name': { type: 'string' },
  services: { type: 'string' },
  spillover: { type: 'string' },
  bpffs: { type: 'string' },
  name: { type: 'string' },
  namespace: { type: 'string' },
  server: { type: 'string' },
  'print-remote-rbac': { type: 'boolean' },
  names: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
} as const;

function required(value: string | undefined, flag: string): string {
  if (!value) throw new StartupError('usage', `${flag} is required\n${USAGE}`);
  return value;
}

interface PlanFlags {
  readonly 'prefer-close'?: string | undefined;
  readonly 'cluster-domain'?: string | undefined;
  readonly 'istio-root-namespace'?: string | undefined;
  readonly 'service-proxy-name'?: string | undefined;
  readonly services?: string | undefined;
  readonly spillover?: string | undefined;
}

/** Unset flags leave the planner's defaults, the same as the agent's. */
function planOptions(flags: PlanFlags): Partial<PlanOptions> {
  const {
    'prefer-close': preferClose,
    'cluster-domain': clusterDomain,
    'istio-root-namespace': rootNamespace,
    'service-proxy-name': serviceProxyName,
    services,
    spillover,
  } = flags;
  if (spillover !== undefined && !(SPILLOVER_SCOPES as readonly string[]).includes(spillover))
    throw new StartupError('usage', `--spillover: expected ${SPILLOVER_SCOPES.join(', ')}, got ${JSON.stringify(spillover)}`);
  if (preferClose !== undefined && preferClose !== 'subzone' && preferClose !== 'zone')
    throw new StartupError('usage', `--prefer-close: expected subzone or zone, got ${JSON.stringify(preferClose)}`);
  if (clusterDomain !== undefined && !isClusterDomain(clusterDomain))
    throw new StartupError('usage', `--cluster-domain: ${JSON.stringify(clusterDomain)} is not a DNS domain`);
  if (rootNamespace !== undefined && !isNamespaceName(rootNamespace))
    throw new StartupError('usage', `--istio-root-namespace: ${JSON.stringify(rootNamespace)} is not a namespace name`);
  if (serviceProxyName !== undefined && !isServiceProxyName(serviceProxyName))
    throw new StartupError('usage', `--service-proxy-name: ${JSON.stringify(serviceProxyName)} is not a label value`);
  if (services !== undefined && !isServiceSelection(services))
    throw new StartupError('usage', `--services: expected all or with-policy, got ${JSON.stringify(services)}`);
  return {
    ...(serviceProxyName !== undefined ? { serviceProxyName } : {}),
    ...(services !== undefined ? { services } : {}),
    ...(preferClose !== undefined ? { preferCloseMeaning: preferClose } : {}),
    ...(clusterDomain !== undefined ? { clusterDomain } : {}),
    ...(rootNamespace !== undefined ? { rootNamespace } : {}),
    ...(spillover !== undefined ? { spillover: spillover as SpilloverScope } : {}),
  };
}

interface SourceFlags {
  readonly state?: string | undefined;
  readonly lab?: string | undefined;
  readonly kubeconfig?: string | undefined;
  readonly context?: string | undefined;
  readonly timeout?: string | undefined;
}

/*
 * The Kubernetes client takes most of a second to load, so only the commands that talk to a cluster
 * import it (cluster.ts, cleanup-wait.ts, remote-secret-command.ts, and manifests.ts through pkg/source); test/unit/cli/startup-imports.test.ts keeps it so.
 */
async function fromCluster(flags: SourceFlags, env: NodeJS.ProcessEnv, timeoutSeconds: number) {
  const { listCluster, loadClusterConfig } = await import('./cluster.js');
  return { objects: await listCluster(loadClusterConfig(flags, env), timeoutSeconds * 1000), problems: [] };
}

async function fromState(dir: string) {
  const { readManifests } = await import('./manifests.js');
  return readManifests(dir);
}

/** --state DIR, else the cluster the kubeconfig (or the pod's service account) names; --lab NAME picks one of the two. */
async function snapshotFrom(given: SourceFlags, io: CtlIo, env: NodeJS.ProcessEnv) {
  if (given.lab !== undefined && (given.state !== undefined || given.kubeconfig !== undefined || given.context !== undefined))
    throw new StartupError('usage', "--lab finds the lab's cluster itself: it does not go with --state, --kubeconfig or --context");
  const flags: SourceFlags = given.lab !== undefined ? { ...given, ...(await labClusterSource(given.lab)) } : given;
  if (flags.state !== undefined && (flags.kubeconfig !== undefined || flags.context !== undefined))
    throw new StartupError('usage', '--state reads manifests: it does not go with --kubeconfig or --context');
  const timeoutSeconds = Number(flags.timeout ?? '30');
  if (!(timeoutSeconds > 0)) throw new StartupError('usage', `--timeout: expected seconds > 0, got ${JSON.stringify(flags.timeout)}`);
  const manifests = flags.state !== undefined ? await fromState(flags.state) : await fromCluster(flags, env, timeoutSeconds);
  for (const p of manifests.problems) io.err(`warning: ${p}`);
  const build = buildSnapshot(manifests.objects);
  for (const r of build.rejected) io.err(`warning: ${r.kind || 'object'} ${r.name || `#${r.index}`} skipped: ${r.message}`);
  return { snapshot: build.snapshot, problems: manifests.problems };
}

function bpffsOf(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  return flag || env['NEARBY_BPFFS'] || '/sys/fs/bpf';
}

export async function runNearbyctl(argv: readonly string[], io: CtlIo, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  // The lab is a package of its own with its own flags, loaded only for its commands.
  if (argv[0] !== undefined && LAB_COMMANDS.includes(argv[0])) return runLabCommand(argv, io);
  try {
    const { values, positionals } = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
    const [command, ...rest] = positionals;
    if (values.version) {
      io.out(`nearbyctl ${packageVersion()}`);
      return 0;
    }
    if (values.help || !command) {
      io.out(USAGE);
      return command || values.help ? 0 : STARTUP_EXIT_CODE;
    }
    switch (command) {
      case 'plan': {
        const node = required(values.node, '--node');
        const { snapshot, problems } = await snapshotFrom(values, io, env);
        const result = plan(snapshot, node, planOptions(values));
        io.out(values.json ? JSON.stringify(planJson(result), null, 2) : planText(result, problems));
        return 0;
      }
      case 'explain': {
        const service = required(rest[0], 'SERVICE (namespace/name)');
        const node = nodeForExplain(values.node, env);
        const options = planOptions(values);
        const { snapshot } = await snapshotFrom(values, io, env);
        const key = service.includes('/') ? service : `default/${service}`;
        const { text, found } = explainService(snapshot, node, key, options, await ejectedOn(pinRootOf(bpffsOf(values.bpffs, env), node)));
        io.out(text);
        if (!found) return 1;
        const pins = await readPins(pinRootOf(bpffsOf(values.bpffs, env), node));
        if (typeof pins === 'string') io.out(`\n${pins}`);
        else {
          const planned = plan(snapshot, node, options).services.find((s) => s.service === key);
          const service = snapshot.services.get(key);
          io.out(['', ...compareWithPins(service, planned, pins).lines, '', ...failOpenLines(service, pins)].join('\n'));
        }
        return 0;
      }
      case 'maps': {
        const bpffs = bpffsOf(values.bpffs, env);
        const node = nodeForMaps(values.node, env, bpffs);
        // Loaded only here: reading maps needs libbpf, planning does not.
        const { readPinnedState } = await import('../../pkg/datapath/index.js');
        const state = readPinnedState(pinRootOf(bpffs, node));
        // Names only with a SOURCE asked for: without one, maps loads no Kubernetes client.
        const wantsNames =
          values.names === true ||
          values.state !== undefined ||
          values.lab !== undefined ||
          values.kubeconfig !== undefined ||
          values.context !== undefined;
        const names: MapNames | undefined = wantsNames ? namesFrom((await snapshotFrom(values, io, env)).snapshot) : undefined;
        io.out(values.json ? JSON.stringify(mapsJson(state, names), null, 2) : mapsText(state, names));
        return 0;
      }
      case 'uninstall': {
        const bpffs = bpffsOf(values.bpffs, env);
        const node = nodeForUninstall(values.node, env, bpffs);
        // Loaded only here: uninstall needs libbpf, planning does not.
        const { runUninstall } = await import('../uninstall.js');
        const logger = pino({ base: { node: node ?? null, mode: 'uninstall' } }, { write: (line: string) => io.out(line.trimEnd()) });
        if (node === undefined) {
          logger.info({ bpffs }, 'uninstall done: no node is pinned under <bpffs>/nearby');
          return 0;
        }
        return runUninstall(pinRootOf(bpffs, node), logger);
      }
      case 'wait-cleanup': {
        const target = required(rest[0], 'NAMESPACE/NAME');
        const timeoutSeconds = Number(values.timeout ?? '600');
        if (!(timeoutSeconds > 0))
          throw new StartupError('usage', `--timeout: expected seconds > 0, got ${JSON.stringify(values.timeout)}`);
        const { loadClusterConfig } = await import('./cluster.js');
        const { waitForCleanup } = await import('./cleanup-wait.js');
        return (await waitForCleanup(loadClusterConfig(values, env), target, timeoutSeconds * 1000, (line) => io.out(line))) ? 0 : 1;
      }
      case 'create-remote-secret': {
        const { runCreateRemoteSecret } = await import('./remote-secret-command.js');
        return await runCreateRemoteSecret(values, io, USAGE);
      }
      default:
        throw new StartupError('usage', `unknown command ${JSON.stringify(command)}\n${USAGE}`);
    }
  } catch (error) {
    if (error instanceof StartupError) {
      io.err(`nearbyctl: ${error.message}`);
      return STARTUP_EXIT_CODE;
    }
    if (error instanceof Error && /^(Unknown option|Option '|Unexpected argument)/.test(error.message)) {
      io.err(`nearbyctl: ${error.message}\n${USAGE}`);
      return STARTUP_EXIT_CODE;
    }
    if (error instanceof Error && error.name.endsWith('Error') && 'errno' in error) {
      io.err(`nearbyctl: ${error.message}`);
      return STARTUP_EXIT_CODE;
    }
    throw error;
  }
}

/** What this node's kernel ejected now, by "address:port"; nothing when the node has no pinned datapath here. */
async function ejectedOn(pinRoot: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  if (!existsSync(pinRoot)) return out;
  // Loaded only here: reading maps needs libbpf, planning does not.
  const { readPinnedState } = await import('../../pkg/datapath/index.js');
  const state = readPinnedState(pinRoot);
  for (const s of state.services) {
    for (const b of s.tiers.flat()) {
      const e = state.ejected.get(b.id);
      if (e) out.set(`${b.address}:${b.port}`, e.remainingMs);
    }
  }
  return out;
}
