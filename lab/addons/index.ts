/**
 * lab/addons: what the real-node lab applies to its cluster besides the agent, as a kubeadm
 * cluster has it. Today the cluster DNS (kube-dns at the Service range's tenth address, which the
 * kubelets' clusterDNS names), applied by `lab up --real-nodes`:
 *
 *   await controlPlane.kubectl(['apply', '-f', '-'], clusterDnsList(clusterDnsAddress(serviceSubnet)));
 */
export { clusterDnsList, clusterDnsObjects, COREDNS_DEPLOYMENT, COREDNS_MANIFEST, KUBE_DNS_SERVICE } from './cluster-dns.js';
export { withoutClusterDns } from './cluster-dns-settlement.js';
