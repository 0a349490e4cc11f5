/*
 * The real-node lab's cluster DNS: CoreDNS (coredns.yaml, beside this file) behind the kube-dns
 * Service, and what each kubelet must be told to hand pods that Service as their resolver.
 * kubeadm's choices: the Service CIDR's tenth address and cluster.local.
 */
import { join } from 'node:path';
import { CLUSTER_DOMAIN } from '../hosts-file.js';
import { PROJECT_ROOT } from '../programs.js';

/** kube-dns' ClusterIP: the tenth address of the lab's Service CIDR (DEFAULT_SERVICE_CIDR). */
export const CLUSTER_DNS_IP = '10.96.0.10';

export { CLUSTER_DOMAIN };

/** The add-on's manifests, applied as admin: `kubectl apply -f` of this file. */
export const COREDNS_MANIFEST = join(PROJECT_ROOT, 'lab/addons/coredns.yaml');

/** The KubeletConfiguration (kubelet.config.k8s.io/v1beta1) fields that point pods at kube-dns. */
export interface KubeletDnsFields {
  readonly clusterDNS: readonly string[];
  readonly clusterDomain: string;
}

export const KUBELET_DNS_FIELDS: KubeletDnsFields = { clusterDNS: [CLUSTER_DNS_IP], clusterDomain: CLUSTER_DOMAIN };
