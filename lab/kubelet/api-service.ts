/* An API server's Service as the lab's views need it (hosts files, status). */
import type { ServicePortSpec } from '../objects.js';
import type { ServiceView } from '../views.js';

export interface ApiService {
  readonly metadata: { readonly name: string; readonly namespace: string };
  readonly spec?: {
    readonly clusterIP?: string;
    readonly selector?: Record<string, string>;
    readonly ports?: ReadonlyArray<{
      readonly name?: string;
      readonly port: number;
      readonly targetPort?: number | string;
      readonly protocol?: string;
    }>;
  };
}

export function serviceView(service: ApiService): ServiceView {
  const spec = service.spec ?? {};
  return {
    namespace: service.metadata.namespace,
    name: service.metadata.name,
    raw: service as unknown as Record<string, unknown>,
    clusterIP: spec.clusterIP ?? '',
    selector: spec.selector,
    ports: (spec.ports ?? []).map((p): ServicePortSpec => ({
      name: p.name ?? '',
      port: p.port,
      targetPort: p.targetPort ?? p.port,
      protocol: (p.protocol ?? 'TCP') as ServicePortSpec['protocol'],
    })),
  };
}
