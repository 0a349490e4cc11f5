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
  // A plain string key, built by hand: this runs for every Service and slice of every cluster.
  let key = '';
  for (const item of list) {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) return list;
    const record = item as Record<string, unknown>;
    let known = 0;
    for (const field of fields) {
      if (!(field in record)) {
        key += '\u0001-';
        continue;
      }
      known++;
      const value = record[field];
      if (value !== null && typeof value === 'object') return list;
      // The type's first letter keeps 80 and "80", null and "null", apart.
      key += `\u0001${value === null ? 'n' : (typeof value)[0]!}${String(value)}`;
    }
    if (Object.keys(record).length !== known) return list;
    key += '\u0002';
  }
  const shared = lists.get(key);
  if (shared) return shared as readonly T[];
  if (lists.size >= MAX_LISTS) lists.clear();
  for (const item of list) Object.freeze(item);
  const frozen = Object.freeze(list);
  lists.set(key, frozen);
  return frozen;
}
