/**
 * lab/addons: what the real-node lab applies to its cluster besides the agent, as a kubeadm
 * cluster has it. Today the cluster DNS:
 *
 *   await controlPlane.kubectl(['apply', '-f', COREDNS_MANIFEST]);      // as admin
 *   kubeletConfig = { ...kubeletConfig, ...KUBELET_DNS_FIELDS };         // each node's kubelet
 */
export { CLUSTER_DNS_IP, CLUSTER_DOMAIN, COREDNS_MANIFEST, KUBELET_DNS_FIELDS, type KubeletDnsFields } from './cluster-dns.js';
