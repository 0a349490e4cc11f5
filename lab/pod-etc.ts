/*
 * Each pod's /etc/hosts and resolv.conf (kubelet's and CoreDNS's part, for the names the lab
 * resolves), rewritten only when what they would say changes.
 */
import { hostsFile, resolvConf } from './hosts-file.js';
import type { PodRuntime } from './pod-runtime.js';
import { matchesLabels } from './selectors.js';
import type { PodView, ServiceView } from './views.js';

export class PodEtcFiles {
  private readonly written = new Map<string, string>();

  write(pod: PodRuntime, services: readonly ServiceView[], pods: readonly PodView[]): void {
    const placement = pod.placement;
    if (!placement || pod.terminating) return;
    const podIps = (service: ServiceView): string[] =>
      pods.flatMap((p) =>
        p.namespace === service.namespace && p.ip && service.selector && matchesLabels(service.selector, p.labels) ? [p.ip] : [],
      );
    const hosts = hostsFile({ namespace: pod.id.namespace, hostname: pod.hostname, ip: placement.ip }, services, podIps);
    const resolv = resolvConf(pod.id.namespace);
    if (this.written.get(pod.key) === hosts + resolv) return;
    pod.writeEtc(hosts, resolv);
    this.written.set(pod.key, hosts + resolv);
  }

  /** The pod is gone: a new pod of the same name gets its files written. */
  forget(pod: PodRuntime): void {
    this.written.delete(pod.key);
  }
}
