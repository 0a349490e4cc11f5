/*
 * The files `ip netns exec` mounts over /etc/hosts and /etc/resolv.conf for a pod. The lab runs
 * no DNS server: Service names resolve from the hosts file, in the forms a pod's search path
 * would complete (name in the pod's own namespace, name.ns, name.ns.svc, the full name).
 */
import type { ServiceView } from './views.js';

export const CLUSTER_DOMAIN = 'cluster.local';

export interface PodAddressing {
  readonly namespace: string;
  readonly hostname: string;
  readonly ip: string;
}

function serviceNames(service: ServiceView, podNamespace: string): string[] {
  const fqdn = `${service.name}.${service.namespace}.svc.${CLUSTER_DOMAIN}`;
  const names = [fqdn, `${service.name}.${service.namespace}.svc`, `${service.name}.${service.namespace}`];
  if (service.namespace === podNamespace) names.push(service.name);
  return names;
}

export function hostsFile(
  pod: PodAddressing,
  services: readonly ServiceView[],
  podIpsOf: (service: ServiceView) => readonly string[],
): string {
  const lines = [
    '# Kubernetes-managed hosts file, written by nearby lab (it runs no DNS server).',
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    'fe00::0\tip6-localnet',
    'fe00::1\tip6-allnodes',
    'fe00::2\tip6-allrouters',
    `${pod.ip}\t${pod.hostname}`,
    '',
    '# Services',
  ];
  const sorted = [...services].sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`));
  for (const service of sorted) {
    const names = serviceNames(service, pod.namespace).join(' ');
    // A headless Service resolves to its pods, one line per address.
    const addresses = service.clusterIP === 'None' ? podIpsOf(service) : [service.clusterIP];
    for (const address of addresses) lines.push(`${address}\t${names}`);
  }
  return `${lines.join('\n')}\n`;
}

export function resolvConf(namespace: string): string {
  return [
    `search ${namespace}.svc.${CLUSTER_DOMAIN} svc.${CLUSTER_DOMAIN} ${CLUSTER_DOMAIN}`,
    '# Nothing listens here: names the hosts file does not know fail at once, inside the pod.',
    'nameserver 127.0.0.1',
    'options ndots:5',
    '',
  ].join('\n');
}
