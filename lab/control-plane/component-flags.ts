/*
 * The command lines of the four components: one etcd member, the apiserver, and the controller
 * manager and scheduler talking to it with their own client certificates (so RBAC treats them as
 * the real system:kube-* users). Everything listens on 127.0.0.1 only, but for the apiserver of a
 * lab, which listens on the lab's API address alone (lab/api-address.ts).
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
  /**
   * The address the apiserver binds and advertises, one pods can reach: it then publishes itself
   * in default/kubernetes as a real cluster's does. Without it, loopback and no publishing.
   */
  readonly address?: string;
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

/**
 * With an address, the apiserver's own lease reconciler writes default/kubernetes's Endpoints and
 * EndpointSlice (address and secure port), as in a real cluster, so nearby programs 10.96.0.1:443
 * like any Service. Without one (a bare control plane for tests) it listens on loopback, which an
 * Endpoints object may not hold and would be a lie to pods, so nothing is published.
 */
function publishing(address: string | undefined): string[] {
  if (!address) return ['--bind-address=127.0.0.1', '--advertise-address=127.0.0.1', '--endpoint-reconciler-type=none'];
  return [`--bind-address=${address}`, `--advertise-address=${address}`, '--endpoint-reconciler-type=lease'];
}

export function apiserverFlags({ pki, ports, serviceCidr, address, watchCache }: Layout): string[] {
  return [
    `--etcd-servers=${etcdClientUrl(ports)}`,
    ...publishing(address),
    `--secure-port=${ports.apiserver}`,
    `--tls-cert-file=${pki.apiserver.cert}`,
    `--tls-private-key-file=${pki.apiserver.key}`,
    `--client-ca-file=${pki.ca.cert}`,
    '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
    `--service-account-key-file=${pki.serviceAccountPub}`,
    `--service-account-signing-key-file=${pki.serviceAccountKey}`,
    '--authorization-mode=Node,RBAC',
    // Kubelets (exec, logs, port-forward) as a real cluster reaches them: by the InternalIP each
    // node reports (nothing in the lab resolves node names), with a client certificate their x509
    // clientCAFile accepts, verifying their serving certificates against the lab's CA.
    '--kubelet-preferred-address-types=InternalIP',
    `--kubelet-client-certificate=${pki.kubeletClient.cert}`,
    `--kubelet-client-key=${pki.kubeletClient.key}`,
    `--kubelet-certificate-authority=${pki.ca.cert}`,
    `--service-cluster-ip-range=${serviceCidr}`,
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
