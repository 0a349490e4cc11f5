/*
 * With --agents daemonset nothing serves a ClusterIP until the user installs nearby: CoreDNS cannot
 * reach the API server at the `kubernetes` Service and stays unready. `lab up` must not wait for
 * it then, so the lab's settlement leaves the add-on's Deployment, pods and Service out; once nearby
 * is installed the pods turn Ready on their own (the user checks them with kubectl).
 */
import type { ApiLists } from '../kubelet/api-settlement.js';
import { COREDNS_DEPLOYMENT, KUBE_DNS_SERVICE } from './cluster-dns.js';

interface Meta {
  name?: string;
  namespace?: string;
  labels?: Record<string, string>;
}
const metaOf = (o: unknown): Meta => (o as { metadata?: Meta }).metadata ?? {};

function isAddon(o: unknown, name: string): boolean {
  const m = metaOf(o);
  return m.namespace === KUBE_DNS_SERVICE.namespace && m.name === name;
}

function isAddonPod(o: unknown): boolean {
  const m = metaOf(o);
  return m.namespace === KUBE_DNS_SERVICE.namespace && m.labels?.[COREDNS_DEPLOYMENT.podLabel[0]] === COREDNS_DEPLOYMENT.podLabel[1];
}

export function withoutClusterDns<T extends ApiLists>(lists: T): T {
  return {
    ...lists,
    deployments: lists.deployments.filter((d) => !isAddon(d, COREDNS_DEPLOYMENT.name)),
    pods: lists.pods.filter((p) => !isAddonPod(p)),
    services: lists.services.filter((s) => !isAddon(s, KUBE_DNS_SERVICE.name)),
  };
}
