/*
 * Desired specs against what the writer reports as programmed. Only a real difference leads to
 * a write: slot order inside a tier is the writer's business (it moves slots to fill holes), so
 * tiers compare as sets of backends.
 */
import { MAX_TIERS, type ProgrammedService, type ServiceSpec } from '../datapath/types.js';
import type { DesiredService } from './translate.js';
import { backendKey, serviceKeyText } from './translate-keys.js';

export interface ServiceDiff {
  /** Not programmed yet. */
  readonly added: readonly DesiredService[];
  /** Programmed, but not as desired. */
  readonly changed: ReadonlyArray<DesiredService & { readonly before: ProgrammedService }>;
  /** Programmed and no longer desired. */
  readonly removed: readonly ProgrammedService[];
  readonly unchanged: number;
}

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

export function diffServices(desired: readonly DesiredService[], programmed: readonly ProgrammedService[]): ServiceDiff {
  const current = new Map(programmed.map((p) => [serviceKeyText(p.key), p]));
  const added: DesiredService[] = [];
  const changed: Array<DesiredService & { before: ProgrammedService }> = [];
  let unchanged = 0;
  for (const d of desired) {
    const before = current.get(d.id);
    current.delete(d.id);
    if (!before) added.push(d);
    else if (!sameService(d.spec, before)) changed.push({ ...d, before });
    else unchanged++;
  }
  return { added, changed, removed: [...current.values()], unchanged };
}
