// BpfMap.dump() against a model of the kernel's hash-map batch lookup, so the cursor handling
// is checked call by call: in_batch/out_batch hand-over, ENOENT with a last partial batch,
// ENOSPC when one bucket holds more than fits, and the fall back to the per-key walk when the
// map type has no batch lookup. The real kernel is checked in test/kernel/datapath-batch-read.
import { beforeEach, describe, expect, it, vi } from 'vitest';

const ENOENT = 2;
const ENOSPC = 28;
const ENOTSUPP = 524;

/** A hash map as the kernel's htab walks it: fixed buckets, a u32 bucket index as cursor. */
class FakeHashMap {
  readonly buckets: Array<Array<[key: Buffer, value: Buffer]>>;
  batchErrno = 0;
  calls: Array<{ inBucket: number | null; count: number; rc: number; got: number }> = [];

  constructor(
    buckets: number,
    readonly keySize: number,
    readonly valueSize: number,
  ) {
    this.buckets = Array.from({ length: buckets }, () => []);
  }

  put(key: Buffer, value: Buffer): void {
    this.buckets[key.readUInt32LE(0) % this.buckets.length]!.push([key, value]);
  }

  all(): Array<[Buffer, Buffer]> {
    return this.buckets.flat();
  }

  lookupBatch(inBatch: Buffer | null, outBatch: Buffer, keys: Buffer, values: Buffer, count: Uint32Array): number {
    const max = count[0]!;
    // A cursor that is not handed on would walk the same buckets forever: fail instead.
    if (this.calls.length > 10_000) throw new Error('lookup_batch called 10,000 times: the walk does not advance');
    const record = (rc: number, got: number): number => {
      this.calls.push({ inBucket: inBatch ? inBatch.readUInt32LE(0) : null, count: max, rc, got });
      count[0] = got;
      return rc;
    };
    if (this.batchErrno) return record(-this.batchErrno, 0);
    let bucket = inBatch ? inBatch.readUInt32LE(0) : 0;
    let total = 0;
    for (; bucket < this.buckets.length; bucket++) {
      const entries = this.buckets[bucket]!;
      if (entries.length > max - total) {
        if (total === 0) return record(-ENOSPC, 0);
        outBatch.writeUInt32LE(bucket, 0);
        return record(0, total);
      }
      for (const [k, v] of entries) {
        k.copy(keys, total * this.keySize);
        v.copy(values, total * this.valueSize);
        total++;
      }
    }
    outBatch.writeUInt32LE(bucket, 0);
    return record(-ENOENT, total);
  }

  nextKey(prev: Buffer | null, next: Buffer): number {
    const all = this.all();
    const i = prev ? all.findIndex(([k]) => k.equals(prev)) + 1 : 0;
    if (i >= all.length) return -ENOENT;
    all[i]![0].copy(next);
    return 0;
  }

  lookup(key: Buffer, value: Buffer): number {
    const hit = this.all().find(([k]) => k.equals(key));
    if (!hit) return -ENOENT;
    hit[1].copy(value);
    return 0;
  }
}

let fake: FakeHashMap;

vi.mock('../../../pkg/datapath/libbpf.js', () => ({
  UPDATE_ANY: 0,
  libbpf: {
    mapLookupBatch: (_fd: number, inBatch: Buffer | null, outBatch: Buffer, keys: Buffer, values: Buffer, count: Uint32Array) =>
      fake.lookupBatch(inBatch, outBatch, keys, values, count),
    mapNextKey: (_fd: number, prev: Buffer | null, next: Buffer) => fake.nextKey(prev, next),
    mapLookup: (_fd: number, key: Buffer, value: Buffer) => fake.lookup(key, value),
  },
}));

const { KernelBpfMap: BpfMap } = await import('../../../pkg/datapath/kernel-map.js');
const { keyAt, valueAt } = await import('../../../pkg/datapath/map-dump.js');

const KEY = 4;
const VALUE = 12;

function entry(n: number): [Buffer, Buffer] {
  const k = Buffer.alloc(KEY);
  k.writeUInt32LE(n);
  const v = Buffer.alloc(VALUE, n & 0xff);
  v.writeUInt32LE(n * 7, 4);
  return [k, v];
}

function asHex(dump: { count: number; keySize: number; valueSize: number; keys: Buffer; values: Buffer }): string[] {
  return Array.from({ length: dump.count }, (_, i) => `${keyAt(dump, i).toString('hex')}=${valueAt(dump, i).toString('hex')}`).sort();
}

const expected = (): string[] =>
  fake
    .all()
    .map(([k, v]) => `${k.toString('hex')}=${v.toString('hex')}`)
    .sort();

describe('BpfMap.dump', () => {
  beforeEach(() => {
    fake = new FakeHashMap(64, KEY, VALUE);
  });

  it('reads an empty map in one call that says ENOENT', () => {
    const map = new BpfMap('m', 3, KEY, VALUE, 64);
    expect(map.dump().count).toBe(0);
    expect(fake.calls).toEqual([{ inBucket: null, count: 64, rc: -ENOENT, got: 0 }]);
  });

  it('hands each call the cursor the previous one returned, and keeps the last partial batch', () => {
    for (let n = 1; n <= 50; n++) fake.put(...entry(n));
    const map = new BpfMap('m', 3, KEY, VALUE, 64);
    const dump = map.dump(8);
    expect(asHex(dump)).toEqual(expected());
    expect(dump.count).toBe(50);
    // The first call starts from the beginning; each later one resumes where the last stopped.
    expect(fake.calls[0]!.inBucket).toBeNull();
    for (let i = 1; i < fake.calls.length; i++) expect(fake.calls[i]!.inBucket).toBeGreaterThan(fake.calls[i - 1]!.inBucket ?? -1);
    const last = fake.calls[fake.calls.length - 1]!;
    expect(last.rc).toBe(-ENOENT);
    expect(last.got).toBeGreaterThan(0);
  });

  it('retries a bucket bigger than the batch with more room, without losing or repeating entries', () => {
    // Keys 0, 64, 128 and 192 share bucket 0; 1 sits alone in bucket 1.
    for (const n of [0, 64, 128, 192, 1, 65]) fake.put(...entry(n));
    const map = new BpfMap('m', 3, KEY, VALUE, 64);
    const dump = map.dump(1);
    expect(asHex(dump)).toEqual(expected());
    expect(fake.calls.filter((c) => c.rc === -ENOSPC).length).toBeGreaterThan(0);
  });

  it('falls back to the per-key walk when the map type has no batch lookup, and stays on it', () => {
    for (let n = 1; n <= 10; n++) fake.put(...entry(n));
    fake.batchErrno = ENOTSUPP;
    const map = new BpfMap('m', 3, KEY, VALUE, 64);
    expect(asHex(map.dump())).toEqual(expected());
    expect(asHex(map.dump())).toEqual(expected());
    expect(fake.calls).toHaveLength(1);
  });

  it('throws a typed error naming the map for any other refusal', () => {
    fake.batchErrno = 1; // EPERM
    const map = new BpfMap('slots', 3, KEY, VALUE, 64);
    expect(() => map.dump()).toThrow(/bpf_map_lookup_batch\(slots\) failed: EPERM/);
  });

  it('gives keys() and entries() from the same read', () => {
    for (let n = 1; n <= 20; n++) fake.put(...entry(n));
    const map = new BpfMap('m', 3, KEY, VALUE, 64);
    expect(
      map
        .keys()
        .map((k) => k.readUInt32LE(0))
        .sort((a, b) => a - b),
    ).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(
      map
        .entries()
        .map(([k, v]) => `${k.toString('hex')}=${v.toString('hex')}`)
        .sort(),
    ).toEqual(expected());
  });
});
