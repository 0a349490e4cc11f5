/*
 * spec.sessionAffinity and spec.sessionAffinityConfig.clientIP.timeoutSeconds, read as the API
 * server validates and defaults them (docs/semantics.md, "Session affinity"). The API server
 * refuses a timeout outside 1..86400, so a Service holding one comes only from a manifest file or
 * a broken source: it is refused the same way, with its own code.
 */
import { BadField, isRecord, type RawRecord, readOptionalString, readRecord } from './read.js';

/** The API server's default timeout for sessionAffinity ClientIP: 3 hours. */
export const DEFAULT_AFFINITY_TIMEOUT_SECONDS = 10_800;
/** The API server's upper bound for timeoutSeconds: one day. */
export const MAX_AFFINITY_TIMEOUT_SECONDS = 86_400;

/** Seconds a client keeps its endpoint for sessionAffinity ClientIP; undefined for None (or unset). */
export function readSessionAffinity(spec: RawRecord): number | undefined {
  const affinity = readOptionalString(spec, 'sessionAffinity', 'spec') ?? 'None';
  if (affinity === 'None') return undefined;
  if (affinity !== 'ClientIP') {
    throw new BadField('unknown-enum', 'spec.sessionAffinity', `unknown session affinity ${JSON.stringify(affinity)}`);
  }
  const clientIP = readRecord(readRecord(spec, 'sessionAffinityConfig', 'spec'), 'clientIP', 'spec.sessionAffinityConfig');
  const path = 'spec.sessionAffinityConfig.clientIP.timeoutSeconds';
  const timeout = clientIP.timeoutSeconds;
  if (timeout === undefined || timeout === null) return DEFAULT_AFFINITY_TIMEOUT_SECONDS;
  if (typeof timeout !== 'number' || !Number.isInteger(timeout) || timeout < 1 || timeout > MAX_AFFINITY_TIMEOUT_SECONDS) {
    const shown = isRecord(timeout) || Array.isArray(timeout) ? 'an object' : JSON.stringify(timeout);
    throw new BadField('bad-affinity-timeout', path, `expected whole seconds from 1 to ${MAX_AFFINITY_TIMEOUT_SECONDS}, got ${shown}`);
  }
  return timeout;
}
