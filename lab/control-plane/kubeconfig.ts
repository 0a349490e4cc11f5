/*
 * Kubeconfig files for the control plane's clients. The CA and client credentials are embedded
 * rather than referenced by path, so a kubeconfig keeps working when handed to a process with
 * another working directory or copied elsewhere in the lab.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { stringify } from 'yaml';

export type KubeconfigUser = { readonly certFile: string; readonly keyFile: string } | { readonly token: string };

export interface KubeconfigSpec {
  readonly server: string;
  readonly caFile: string;
  /** Names the context and user, so several kubeconfigs stay distinguishable in kubectl output. */
  readonly userName: string;
  readonly user: KubeconfigUser;
}

const base64File = (file: string) => readFileSync(file).toString('base64');

function userEntry(user: KubeconfigUser): Record<string, string> {
  if ('token' in user) return { token: user.token };
  return { 'client-certificate-data': base64File(user.certFile), 'client-key-data': base64File(user.keyFile) };
}

export function writeKubeconfig(path: string, spec: KubeconfigSpec): string {
  const cluster = 'nearby-lab';
  const document = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: cluster, cluster: { server: spec.server, 'certificate-authority-data': base64File(spec.caFile) } }],
    users: [{ name: spec.userName, user: userEntry(spec.user) }],
    contexts: [{ name: spec.userName, context: { cluster, user: spec.userName } }],
    'current-context': spec.userName,
    preferences: {},
  };
  // Credentials inside: readable by the owner only.
  writeFileSync(path, stringify(document), { mode: 0o600 });
  return path;
}
