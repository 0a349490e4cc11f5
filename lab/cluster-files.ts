/*
 * The files the lab derives from its state: cluster/*.yaml for the agents (what an API server
 * would serve, with the EndpointSlice controller's slices) and each pod's hosts and resolv.conf.
 */
import { namespaceManifest, nodeManifest, podManifest, serviceManifest } from './cluster-manifests.js';
import { endpointSlicesFor } from './endpoint-slices.js';
import { hostsFile, resolvConf, type PodAddressing } from './hosts-file.js';
import { randomSuffix } from './pod-names.js';
import { ClusterPublisher } from './publisher.js';
import { matchesLabels } from './selectors.js';
import type { NamespaceView, NodeView, PodView, ServiceView } from './views.js';

export class ClusterFiles {
  private readonly publisher: ClusterPublisher;
  /** Generated slice names, kept for the life of the Service like the controller's. */
  private readonly sliceNames = new Map<string, string>();

  constructor(dir: string) {
    this.publisher = new ClusterPublisher(dir);
  }

  private sliceName(service: ServiceView, group: string): string {
    const key = `${service.namespace}/${service.name}|${group}`;
    let name = this.sliceNames.get(key);
    if (!name) {
      name = `${service.name}-${randomSuffix()}`;
      this.sliceNames.set(key, name);
    }
    return name;
  }

  /** Writes what changed; returns the objects the agents read (for the convergence check). */
  publish(nodes: readonly NodeView[], namespaces: readonly NamespaceView[], services: readonly ServiceView[], pods: readonly PodView[]): Record<string, unknown>[] {
    const nodeMap = new Map(nodes.map((n) => [n.name, n]));
    const files = {
      'nodes.yaml': nodes.map(nodeManifest),
      'namespaces.yaml': namespaces.map(namespaceManifest),
      'services.yaml': services.map(serviceManifest),
      'endpointslices.yaml': services.flatMap((s) => endpointSlicesFor(s, pods, nodeMap, (g) => this.sliceName(s, g))),
      'pods.yaml': pods.map(podManifest),
    };
    this.publisher.publish(files);
    return [...files['nodes.yaml'], ...files['namespaces.yaml'], ...files['services.yaml'], ...files['endpointslices.yaml']];
  }

  etcFiles(pod: PodAddressing, services: readonly ServiceView[], pods: readonly PodView[]): { hosts: string; resolv: string } {
    const podIps = (service: ServiceView): string[] =>
      pods.flatMap((p) => (p.namespace === service.namespace && p.ip && service.selector && matchesLabels(service.selector, p.labels) ? [p.ip] : []));
    return { hosts: hostsFile(pod, services, podIps), resolv: resolvConf(pod.namespace) };
  }
}
