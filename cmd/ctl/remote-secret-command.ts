/*
 * The flags of `nearbyctl create-remote-secret` turned into a call of remote-secret.ts. Exit 0
 * with the Secret on stdout; 2 for usage, an unreadable kubeconfig or an unreachable cluster.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { DEFAULT_REMOTE_SECRET_NAMESPACE } from '../../pkg/source/index.js';
import { isNamespaceName } from '../plan-flags.js';
import { STARTUP_EXIT_CODE, StartupError } from '../startup-error.js';
import { createRemoteSecret, remoteRbacManifests, toYaml } from './remote-secret.js';
import type { CtlIo } from './run.js';

/** A Secret data key: what a cluster name must be. */
const CLUSTER_NAME = /^[-._a-zA-Z0-9]+$/;

export interface RemoteSecretFlags {
  readonly name?: string | undefined;
  readonly context?: string | undefined;
  readonly kubeconfig?: string | undefined;
  readonly namespace?: string | undefined;
  readonly server?: string | undefined;
  readonly 'print-remote-rbac'?: boolean | undefined;
}

function remoteKubeConfig(flags: RemoteSecretFlags): KubeConfig {
  const kc = new KubeConfig();
  try {
    if (flags.kubeconfig) kc.loadFromFile(flags.kubeconfig);
    else kc.loadFromDefault();
  } catch (error) {
    throw new StartupError('usage', `cannot load the kubeconfig: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (flags.context) {
    if (!kc.getContextObject(flags.context)) throw new StartupError('usage', `--context: no context ${JSON.stringify(flags.context)}`);
    kc.setCurrentContext(flags.context);
  }
  return kc;
}

export async function runCreateRemoteSecret(flags: RemoteSecretFlags, io: CtlIo, usage: string): Promise<number> {
  const namespace = flags.namespace ?? DEFAULT_REMOTE_SECRET_NAMESPACE;
  if (!isNamespaceName(namespace)) throw new StartupError('usage', `--namespace: ${JSON.stringify(namespace)} is not a namespace name`);
  if (flags['print-remote-rbac']) {
    io.out(toYaml(remoteRbacManifests(namespace)));
    return 0;
  }
  const name = flags.name;
  if (!name) throw new StartupError('usage', `--name is required\n${usage}`);
  if (!CLUSTER_NAME.test(name))
    throw new StartupError('usage', `--name: ${JSON.stringify(name)} is not a cluster name (letters, digits, -, _, .)`);
  const kc = remoteKubeConfig(flags);
  try {
    const secret = await createRemoteSecret(kc, { name, namespace, ...(flags.server ? { server: flags.server } : {}) });
    io.out(toYaml([secret]));
    return 0;
  } catch (error) {
    io.err(`nearbyctl: create-remote-secret: ${error instanceof Error ? error.message : String(error)}`);
    return STARTUP_EXIT_CODE;
  }
}
