/**
 * Small readers for untyped, parsed Kubernetes objects. Each one throws a BadField naming the
 * field path, so a converter can read fields in a straight line and still say exactly what is
 * wrong with an object it refuses.
 */
import type { RejectionCode } from './types.js';

export class BadField extends Error {
  constructor(
    readonly code: RejectionCode,
    path: string,
    problem: string,
  ) {
    super(`${path}: ${problem}`);
    this.name = 'BadField';
  }
}

export type RawRecord = Readonly<Record<string, unknown>>;

export function isRecord(value: unknown): value is RawRecord {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'string' ? JSON.stringify(value) : `a ${typeof value}`;
}

/** A nested object; absent or null reads as an empty object, as the API server would default. */
export function readRecord(parent: RawRecord, field: string, path: string): RawRecord {
  const value = parent[field];
  if (value === undefined || value === null) return {};
  if (!isRecord(value)) throw new BadField('wrong-type', `${path}.${field}`, `expected an object, got ${describe(value)}`);
  return value;
}

export function readList(parent: RawRecord, field: string, path: string): readonly unknown[] {
  const value = parent[field];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new BadField('wrong-type', `${path}.${field}`, `expected a list, got ${describe(value)}`);
  return value;
}

export function readOptionalString(parent: RawRecord, field: string, path: string): string | undefined {
  const value = parent[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new BadField('wrong-type', `${path}.${field}`, `expected a string, got ${describe(value)}`);
  return value;
}

export function readRequiredString(parent: RawRecord, field: string, path: string): string {
  const value = readOptionalString(parent, field, path);
  if (value === undefined || value === '') throw new BadField('missing-field', `${path}.${field}`, 'missing');
  return value;
}

export function readOptionalBoolean(parent: RawRecord, field: string, path: string): boolean | undefined {
  const value = parent[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw new BadField('wrong-type', `${path}.${field}`, `expected true or false, got ${describe(value)}`);
  return value;
}

/** A port number; 0 is refused because no connect can target it. */
export function readOptionalPort(parent: RawRecord, field: string, path: string): number | undefined {
  const value = parent[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 65535) {
    throw new BadField('bad-port', `${path}.${field}`, `expected a port number 1-65535, got ${describe(value)}`);
  }
  return value;
}

/**
 * A string map (labels, annotations). Non-string values are refused, as the API server would:
 * YAML turns an unquoted `1` or `true` into a number or boolean, and guessing it back is unsafe.
 */
export function readStringMap(parent: RawRecord, field: string, path: string): Readonly<Record<string, string>> {
  const map = readStringRecord(parent, field, path);
  const result: Record<string, string> = {};
  for (const [key, value] of Object.entries(map)) result[key] = value as string;
  return Object.freeze(result);
}

/**
 * One entry of a string map that readStringMap() would accept (the same errors for the others),
 * without copying the map: a slice is read for its service-name label alone.
 */
export function readStringMapValue(parent: RawRecord, field: string, path: string, key: string): string | undefined {
  const map = readStringRecord(parent, field, path);
  return Object.hasOwn(map, key) ? (map[key] as string) : undefined;
}

function readStringRecord(parent: RawRecord, field: string, path: string): RawRecord {
  const map = readRecord(parent, field, path);
  for (const key of Object.keys(map)) {
    const value = map[key];
    if (typeof value !== 'string') {
      throw new BadField('wrong-type', `${path}.${field}[${key}]`, `expected a string, got ${describe(value)}`);
    }
  }
  return map;
}
