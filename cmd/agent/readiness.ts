/*
 * Ready means: the source has synced, and a reconcile pass has since run to the end and
 * programmed the datapath. A single Service that failed does not make the node unready (that
 * would take the whole DaemonSet down for one object); it shows in metrics and logs instead.
 */
import type { Readiness } from '../../pkg/metrics/index.js';
import type { ReconcileResult } from '../../pkg/reconciler/index.js';
import type { SourceStatus } from '../../pkg/source/types.js';

export function readiness(source: SourceStatus | undefined, startError: string | undefined, completed: ReconcileResult | undefined): Readiness {
  if (startError) return { ready: false, reason: startError };
  if (!source) return { ready: false, reason: 'starting' };
  if (!completed) {
    if (!source.synced) return { ready: false, reason: `waiting for the first sync${source.message ? `: ${source.message}` : ''}` };
    return { ready: false, reason: 'synced; waiting for the first program of the datapath' };
  }
  const failed = completed.failures.length;
  const note = failed > 0 ? `, ${failed} not programmed (see nearby_services_failed)` : '';
  return { ready: true, reason: `${completed.desired} services planned${note}` };
}
