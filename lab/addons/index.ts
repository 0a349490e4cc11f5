/**
 * lab/addons: what the real-node lab applies to its cluster besides the agent, as a kubeadm
 * cluster has it. Today the cluster DNS (kube-dns at the Service range's tenth address, which the
 * kubelets' clusterDNS names):
 *
 *   const items = clusterDnsObjects(clusterDnsAddress(serviceSubnet));
 *   await controlPlane.kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items }));
 */
export { clusterDnsObjects, COREDNS_MANIFEST, KUBE_DNS_SERVICE } from './cluster-dns.js';
