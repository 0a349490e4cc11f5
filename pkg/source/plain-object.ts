import { kindInfo } from '../model/index.js';
import type { WatchedKind } from './types.js';

/**
 * client-node's typed list calls return class instances with Date fields; watch events are plain
 * JSON. Consumers must see one shape, so everything is turned back into JSON-shaped data.
 */
export function toPlainJson(value: unknown): unknown {
  if (value instanceof Date) return formatKubernetesTime(value);
  if (Array.isArray(value)) return value.map(toPlainJson);
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [key, field] of Object.entries(value)) {
      if (field !== undefined) out[key] = toPlainJson(field);
    }
    return out;
  }
  return value;
}

/** RFC 3339 as the API server writes it: whole seconds carry no fraction. */
function formatKubernetesTime(date: Date): string {
  return date.toISOString().replace(/\.000Z$/, 'Z');
}

/** List items usually lack kind and apiVersion; consumers dispatch on them, so fill them in. */
export function withTypeMeta(
  object: Record<string, unknown>,
  kind: WatchedKind | 'Secret',
  apiVersion = kind === 'Secret' ? 'v1' : kindInfo(kind).apiVersion,
): Record<string, unknown> {
  if (object.kind === kind && typeof object.apiVersion === 'string') return object;
  return { ...object, apiVersion: object.apiVersion ?? apiVersion, kind };
}
