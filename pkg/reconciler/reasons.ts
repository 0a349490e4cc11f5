/*
 * Short, fixed reason classes for metrics labels. Messages name objects and values, which
 * would make a label per object; logs keep the full message, metrics keep the class.
 */
import type { Rejection } from '../model/index.js';
import type { Warning } from '../planner/index.js';

const REJECTION_CLASSES: ReadonlyArray<readonly [RegExp, string]> = [
  [/^duplicate /, 'duplicate'],
  [/^not an object$/, 'not-an-object'],
  [/^missing kind$/, 'missing-kind'],
  [/^unsupported apiVersion/, 'unsupported-api-version'],
  [/unparseable IP|is not an IPv[46] address|a second IPv[46] address|differs from spec\.clusterIPs/, 'bad-ip'],
  [/unknown protocol|unknown address type/, 'unknown-enum'],
  [/expected a port number/, 'bad-port'],
  [/: missing(,|$)/, 'missing-field'],
  [/duplicate port name/, 'duplicate-port'],
];

export function rejectionReason(rejection: Rejection): string {
  for (const [pattern, reason] of REJECTION_CLASSES) if (pattern.test(rejection.reason)) return reason;
  return 'bad-field';
}

const WARNING_CLASSES: ReadonlyArray<readonly [RegExp, string]> = [
  [/^unknown spec\.internalTrafficPolicy/, 'unknown-policy'],
  [/^unknown spec\.trafficDistribution/, 'unknown-policy'],
  [/annotation .* ignored$/, 'unknown-policy'],
  [/SCTP\) ignored/, 'sctp-ignored'],
  [/matches no port/, 'port-mismatch'],
  [/has no port number/, 'port-unset'],
  [/names no node|which is unknown/, 'unknown-endpoint-node'],
  [/this node is not in the snapshot/, 'unknown-client-node'],
];

export function warningReason(warning: Warning): string {
  for (const [pattern, reason] of WARNING_CLASSES) if (pattern.test(warning.message)) return reason;
  return 'other';
}

export function countBy<T>(items: readonly T[], classify: (item: T) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) {
    const reason = classify(item);
    counts[reason] = (counts[reason] ?? 0) + 1;
  }
  return counts;
}
