/*
 * The command lines of the four components: one etcd member, the apiserver on loopback, and the
 * controller manager and scheduler talking to it with their own client certificates (so RBAC
 * treats them as the real system:kube-* users). Everything listens on 127.0.0.1 only.
 */
import { join } from 'node:path';
import type { Pki } from './pki.js';

export interface Ports {
  readonly etcdClient: number;
  readonly etcdPeer: number;
  readonly apiserver: number;
  readonly controllerManager: number;
  readonly scheduler: number;
}

export interface Layout {
  readonly dir: string;
  readonly pki: Pki;
  readonly ports: Ports;
  readonly serviceCidr: string;
  readonly watchCache: boolean;
  readonly controllerManagerKubeconfig: string;
  readonly schedulerKubeconfig: string;
}

const ETCD_NAME = 'nearby-lab';

export const etcdClientUrl = (ports: Ports) => `http://127.0.0.1:${ports.etcdClient}`;

export function etcdFlags({ dir, ports }: Layout): string[] {
  const client = etcdClientUrl(ports);
  const peer = `http://127.0.0.1:${ports.etcdPeer}`;
  return [
    '--name',
    ETCD_NAME,
    '--data-dir',
    join(dir, 'etcd'),
    '--listen-client-urls',
    client,
    '--advertise-client-urls',
    client,
    '--listen-peer-urls',
    peer,
    '--initial-advertise-peer-urls',
    peer,
    '--initial-cluster',
    `${ETCD_NAME}=${peer}`,
    '--initial-cluster-state',
    'new',
    // A throwaway data dir: durability buys nothing and fsync costs seconds on a busy disk.
    '--unsafe-no-fsync',
    '--log-level',
    'warn',
  ];
}

export function apiserverFlags({ pki, ports, serviceCidr, watchCache }: Layout): string[] {
  return [
    `--etcd-servers=${etcdClientUrl(ports)}`,
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    `--secure-port=${ports.apiserver}`,
    `--tls-cert-file=${pki.apiserver.cert}`,
    `--tls-private-key-file=${pki.apiserver.key}`,
    `--client-ca-file=${pki.ca.cert}`,
    '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
    `--service-account-key-file=${pki.serviceAccountPub}`,
    `--service-account-signing-key-file=${pki.serviceAccountKey}`,
    '--authorization-mode=Node,RBAC',
    `--service-cluster-ip-range=${serviceCidr}`,
    // No kubelet reports the apiserver's own address, and 127.0.0.1 would be a lie to pods.
    '--endpoint-reconciler-type=none',
    `--watch-cache=${watchCache}`,
  ];
}

function controllerFlags(kubeconfig: string, port: number, serving: { cert: string; key: string }): string[] {
  return [
    `--kubeconfig=${kubeconfig}`,
    `--authentication-kubeconfig=${kubeconfig}`,
    `--authorization-kubeconfig=${kubeconfig}`,
    // The lab has no front proxy, so there is no request-header configuration to fetch from the
    // extension-apiserver-authentication ConfigMap; skipping that lookup removes a start-up dependency.
    '--authentication-skip-lookup',
    '--bind-address=127.0.0.1',
    `--secure-port=${port}`,
    `--tls-cert-file=${serving.cert}`,
    `--tls-private-key-file=${serving.key}`,
    // One instance each: a lease round-trip would only delay the start.
    '--leader-elect=false',
  ];
}

export function controllerManagerFlags({ pki, ports, serviceCidr, controllerManagerKubeconfig }: Layout): string[] {
  return [
    ...controllerFlags(controllerManagerKubeconfig, ports.controllerManager, pki.controllerManagerServing),
    `--service-account-private-key-file=${pki.serviceAccountKey}`,
    `--root-ca-file=${pki.ca.cert}`,
    `--cluster-signing-cert-file=${pki.ca.cert}`,
    `--cluster-signing-key-file=${pki.ca.key}`,
    // Each controller under its own service account, as in a real cluster, so RBAC applies to it.
    '--use-service-account-credentials',
    `--service-cluster-ip-range=${serviceCidr}`,
  ];
}

export function schedulerFlags({ pki, ports, schedulerKubeconfig }: Layout): string[] {
  return controllerFlags(schedulerKubeconfig, ports.scheduler, pki.schedulerServing);
}
