/*
 * A whole map read at one moment, packed as the kernel's batch calls lay it out: entry i's key
 * at keys[i * keySize], its value at values[i * valueSize]. Readers walk offsets instead of
 * holding two Buffer objects per entry, which at 400,000 entries costs more than the bytes.
 * Pure, so drift planning can be fed a dump built by hand.
 */

export interface MapDump {
  readonly count: number;
  readonly keySize: number;
  readonly valueSize: number;
  readonly keys: Buffer;
  readonly values: Buffer;
}

/** A view (not a copy) of entry i's key. */
export function keyAt(dump: MapDump, i: number): Buffer {
  return dump.keys.subarray(i * dump.keySize, (i + 1) * dump.keySize);
}

/** A view (not a copy) of entry i's value. */
export function valueAt(dump: MapDump, i: number): Buffer {
  return dump.values.subarray(i * dump.valueSize, (i + 1) * dump.valueSize);
}

/** Packs separate key/value buffers, e.g. from a per-key walk or a test's model of a map. */
export function packEntries(entries: ReadonlyArray<readonly [key: Buffer, value: Buffer]>, keySize: number, valueSize: number): MapDump {
  const keys = Buffer.alloc(entries.length * keySize);
  const values = Buffer.alloc(entries.length * valueSize);
  entries.forEach(([k, v], i) => {
    k.copy(keys, i * keySize, 0, keySize);
    v.copy(values, i * valueSize, 0, valueSize);
  });
  return { count: entries.length, keySize, valueSize, keys, values };
}
