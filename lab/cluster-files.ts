/*
 * The files the file-backed lab derives from its state for the agents: cluster/*.yaml, what an
 * API server would serve, with the EndpointSlice controller's slices.
 */
import { namespaceManifest, nodeManifest, podManifest, serviceManifest } from './cluster-manifests.js';
import { endpointSlicesFor } from './endpoint-slices.js';
import { randomSuffix } from './pod-names.js';
import { ClusterPublisher } from './publisher.js';
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
  publish(
    nodes: readonly NodeView[],
    namespaces: readonly NamespaceView[],
    services: readonly ServiceView[],
    pods: readonly PodView[],
  ): Array<Record<string, unknown>> {
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
}
