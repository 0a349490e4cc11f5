/* The lab's state as `lab status` and `lab get pods` report it: pure functions of the views. */
import { matchesExpression, matchesLabels, parseSelector } from './selectors.js';
import type { LabStatus, PodStatus, ServicePolicy, ServiceStatus } from './status.js';
import { isReady, type PodView, type ServiceView } from './views.js';

export function podStatuses(pods: readonly PodView[], namespace?: string, selector?: string): PodStatus[] {
  const expressions = selector ? parseSelector(selector) : [];
  return pods
    .filter((p) => namespace === undefined || p.namespace === namespace)
    .filter((p) => expressions.every((e) => matchesExpression(e, p.labels)))
    .sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`))
    .map((p) => ({
      namespace: p.namespace,
      name: p.name,
      labels: { ...p.labels },
      ...(p.node ? { node: p.node } : {}),
      ...(p.ip ? { ip: p.ip } : {}),
      phase: p.terminating ? 'Terminating' : p.phase,
      ready: isReady(p),
      terminating: p.terminating,
      restarts: p.restarts,
      ...(p.reason ? { reason: p.reason } : {}),
      containers: p.containers.map((c) => c.name),
      createdAt: p.createdAt,
    }));
}

function serviceStatus(service: ServiceView, pods: readonly PodStatus[], policy: ServicePolicy | undefined): ServiceStatus {
  const spec = (service.raw['spec'] ?? {}) as Record<string, unknown>;
  const selector = service.selector;
  const members =
    selector && Object.keys(selector).length > 0
      ? pods.filter((p) => p.namespace === service.namespace && p.ip && matchesLabels(selector, p.labels))
      : [];
  return {
    namespace: service.namespace,
    name: service.name,
    clusterIP: service.clusterIP,
    ports: service.ports.map((p) => `${p.port}/${p.protocol}`),
    ...(typeof spec['trafficDistribution'] === 'string' ? { trafficDistribution: spec['trafficDistribution'] } : {}),
    ...(typeof spec['internalTrafficPolicy'] === 'string' ? { internalTrafficPolicy: spec['internalTrafficPolicy'] } : {}),
    ...(policy ? { policy } : {}),
    endpoints: { ready: members.filter((p) => p.ready).length, total: members.length },
  };
}

/** A LabStatus before pods and services are summarised. */
export interface StatusInput extends Omit<LabStatus, 'pods' | 'services'> {
  readonly pods: readonly PodView[];
  readonly services: readonly ServiceView[];
  /** The planner's policy per "ns/name" (planned-view.ts). */
  readonly policies?: ReadonlyMap<string, ServicePolicy>;
}

export function labStatus(input: StatusInput): LabStatus {
  const { policies, ...rest } = input;
  const pods = podStatuses(input.pods);
  return { ...rest, pods, services: input.services.map((s) => serviceStatus(s, pods, policies?.get(`${s.namespace}/${s.name}`))) };
}
