/*
 * A pod's status as the kubelet reports it, from what the lab's runtime knows. The
 * EndpointSlice controller reads podIPs, the Ready condition and deletionTimestamp from it, so
 * this is what makes a lab pod an endpoint.
 */
import type { PodView } from '../views.js';

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

/** What changed between two reports, ignoring timestamps: only then is a patch sent. */
export function statusFingerprint(view: PodView): string {
  return JSON.stringify([view.phase, view.serving, view.ip ?? '', view.restarts, view.reason ?? '']);
}
