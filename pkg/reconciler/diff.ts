/*
 * Desired specs against what the writer reports as programmed. Only a real difference leads to
 * a write: slot order inside a tier is the writer's business (it moves slots to fill holes), so
 * tiers compare as sets of backends.
 */
import { MAX_TIERS, type ProgrammedService, type ServiceSpec } from '../datapath/types.js';
import { backendKey } from './translate-keys.js';

function tierFingerprint(backends: ReadonlyArray<{ address: string; port: number; nodeId: number; terminating: boolean }>): string {
  return backends
    .map((b) => `${backendKey(b.address, b.port)}#${b.nodeId}#${b.terminating ? 1 : 0}`)
    .sort()
    .join(',');
}

export function sameService(spec: ServiceSpec, programmed: ProgrammedService): boolean {
  if (spec.mode !== programmed.mode) return false;
  for (let t = 0; t < MAX_TIERS; t++) {
    if ((spec.weights?.[t] ?? 0) !== (programmed.weights[t] ?? 0)) return false;
    if (tierFingerprint(spec.tiers[t] ?? []) !== tierFingerprint(programmed.tiers[t] ?? [])) return false;
  }
  return true;
}
