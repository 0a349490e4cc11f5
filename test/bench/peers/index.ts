/**
 * test/bench/peers: the real systems nearby is measured against, and what feeding them takes.
 *
 *   KubeProxyPeer.start({ cp, netns, mode, nodeName, nodeIp })   kube-proxy (iptables | nftables;
 *                                                                 iptablesBackend: nft | legacy)
 *                                                                 programming one netns, synced
 *   createBulkServices({ kubeconfig, namespace, count, ... })     N selector-less Services + slices
 *   replaceEndpoints(api, service, addresses, ports)              one slice rewrite (a "change")
 *   spawnInNetns / tsMain('name-server-main.ts', ...)             endpoints that say who answered
 *   peerLeftovers() / cleanupPeerLeftovers()                      peers of crashed runs
 */
export { KubeProxyPeer, type ConntrackStats, type KubeProxyPeerOptions, type KubeProxySync } from './kube-proxy.js';
export { kubeProxyConfig, type KubeProxyMode, KUBE_PROXY_HEALTHZ, KUBE_PROXY_METRICS } from './kube-proxy-config.js';
export { iptablesEnvPrefix, type IptablesBackend } from './iptables-backend.js';
export { resolveKubeProxyBinary, type KubeProxyBinary } from './kube-proxy-binary.js';
export { kubeProxyIdentity } from './kube-proxy-identity.js';
export { benchNode, endpointSlice, selectorlessService, SERVICE_NAME_LABEL, type ServicePorts } from './api-objects.js';
export { ApiWriter, createBulkServices, replaceEndpoints, type BulkService, type BulkServicesOptions } from './bulk-services.js';
export { spawnInNetns, tsMain, type NetnsProcess, type NetnsSpawnOptions } from './netns-process.js';
export { cleanupPeerLeftovers, peerLeftovers, PEERS_DIR, type PeerLeftover, type PeerRecord } from './peer-records.js';
