/*
 * A Service's key, "namespace/name", as one string however many objects name it: the Service
 * itself and every EndpointSlice of it, in every cluster. Each used to build its own, and the
 * store and the planner keep them (map keys, slices' serviceKey): at 10,000 Services in three
 * clusters, four strings per Service where one does.
 */
const keys = new Map<string, Map<string, string>>();
let count = 0;
/** Far above any cluster's Services; emptied past it, so Services deleted cannot pile up forever. */
const KEYS_MAX = 200_000;

/** "namespace/name", the same string for the same pair (looked up without building it first). */
export function serviceKey(namespace: string, name: string): string {
  let names = keys.get(namespace);
  const known = names?.get(name);
  if (known !== undefined) return known;
  if (count >= KEYS_MAX) {
    keys.clear();
    count = 0;
    names = undefined;
  }
  if (!names) keys.set(namespace, (names = new Map<string, string>()));
  const key = `${namespace}/${name}`;
  names.set(name, key);
  count++;
  return key;
}
