/*
 * Port lists, shared. Nearly every Service and EndpointSlice in a cluster names one of a handful
 * of port lists (80/TCP "http", ...), and a multi-cluster agent holds each Service and slice once
 * per cluster, raw and converted: one frozen list per distinct value instead of one per object.
 */

const lists = new Map<string, readonly unknown[]>();
/** Far above the distinct lists a cluster has; emptied past it so odd clusters cannot grow it forever. */
const MAX_LISTS = 10_000;

/**
 * The shared frozen list equal to `list`, whose items are flat records of the named fields.
 * Lists whose items are not plain records of scalars are returned as they are.
 */
export function sharedPortList<T>(list: readonly T[], fields: readonly string[]): readonly T[] {
  const parts: unknown[] = [];
  for (const item of list) {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) return list;
    const record = item as Record<string, unknown>;
    for (const key of Object.keys(record)) if (!fields.includes(key)) return list;
    for (const field of fields) {
      const value = record[field];
      if (value !== undefined && value !== null && typeof value === 'object') return list;
      parts.push(!(field in record) ? '\u0000absent' : value === undefined ? '\u0000undefined' : value);
    }
  }
  const key = JSON.stringify(parts);
  const known = lists.get(key);
  if (known) return known as readonly T[];
  if (lists.size >= MAX_LISTS) lists.clear();
  for (const item of list) Object.freeze(item);
  const frozen = Object.freeze(list);
  lists.set(key, frozen);
  return frozen;
}
