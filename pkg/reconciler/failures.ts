/*
 * Turns a writer error into a ServiceFailure. Per-service errors are expected (a full map, a
 * spec the datapath refuses) and must not stop the pass; anything else is still recorded per
 * service, since the writer leaves a failed service as it was.
 */
import { BpfCallError, InvalidServiceError, MapFullError } from '../datapath/index.js';
import type { ServiceFailure } from './types.js';

export function toFailure(service: string, key: string, error: unknown): ServiceFailure {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof MapFullError) return { code: 'map-full', service, key, map: error.map, message };
  if (error instanceof InvalidServiceError) return { code: 'invalid-service', service, key, message };
  if (error instanceof BpfCallError) return { code: 'bpf-call', service, key, map: error.target, message };
  return { code: 'error', service, key, message };
}
