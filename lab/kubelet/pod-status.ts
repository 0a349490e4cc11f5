/*
 * A pod's status as the kubelet reports it, from what the lab's runtime knows. The
 * EndpointSlice controller reads podIPs, the Ready condition and deletionTimestamp from it, so
 * this is what makes a lab pod an endpoint.
 */
import type { PodView } from '../views.js';
import type { ApiPod } from './api-pod.js';

export interface ReportedPod {
  readonly view: PodView;
  /** When the kubelet started the pod (RFC 3339). */
  readonly startedAt: string;
  readonly images: Readonly<Record<string, string>>;
}

const condition = (type: string, ok: boolean, since: string): Record<string, string> => ({
  type,
  status: ok ? 'True' : 'False',
  lastTransitionTime: since,
});

/** The merge patch for pods/<name>/status. Lists are replaced whole, which is what is wanted. */
export function podStatusPatch({ view, startedAt, images }: ReportedPod, now: string): { status: Record<string, unknown> } {
  const running = view.phase === 'Running';
  const ready = running && view.serving;
  const status: Record<string, unknown> = {
    phase: view.phase === 'Failed' ? 'Failed' : running ? 'Running' : 'Pending',
    conditions: [
      condition('PodScheduled', true, startedAt),
      condition('Initialized', true, startedAt),
      condition('ContainersReady', ready, now),
      condition('Ready', ready, now),
    ],
    containerStatuses: view.containers.map((c) => ({
      name: c.name,
      image: images[c.name] ?? c.image,
      imageID: '',
      ready,
      started: running,
      restartCount: view.restarts,
      state: running ? { running: { startedAt } } : { waiting: { reason: view.reason ?? 'ContainerCreating' } },
    })),
    startTime: startedAt,
  };
  if (view.reason) status['message'] = view.reason;
  if (view.ip) {
    status['podIP'] = view.ip;
    status['podIPs'] = [{ ip: view.ip }];
  }
  return { status };
}

/** What a report says, ignoring timestamps and messages: a patch is sent when the API's copy says otherwise. */
export function statusFingerprint(view: PodView): string {
  const running = view.phase === 'Running';
  return JSON.stringify([view.phase, running && view.serving, view.ip ?? '', view.restarts]);
}

/** The same fingerprint of the status an API server holds for the pod. */
export function apiStatusFingerprint(pod: ApiPod): string {
  const status = pod.status ?? {};
  const ready = status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
  const restarts = (status.containerStatuses ?? []).reduce((n, c) => n + (c.restartCount ?? 0), 0);
  return JSON.stringify([status.phase ?? 'Pending', ready, status.podIP ?? '', restarts]);
}
