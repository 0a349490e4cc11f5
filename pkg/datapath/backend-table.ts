/*
 * The writer's memory of the backends it programmed, compact enough for 150,000 of them: one
 * object per backend cost ~400 bytes (value object, address strings, a string key, cached
 * encoded bytes). Here a backend is a row: its value bytes exactly as written to the kernel
 * (one shared buffer, so drift compares them in place) and a reference count. The address
 * text is read back from those bytes when asked for; only IPv6 rows keep theirs, as part of
 * the key they are indexed by. Rows are reused, ids never are.
 */
import { readAddress } from './addr.js';
import { BackendKeyIndex } from './backend-key-index.js';
import { backendValue } from './codecs.js';
import { type BackendKey, ipv4BackendKey, ipv6BackendKey } from './identity.js';
import { NumberIndex } from './number-index.js';
import type { ProgrammedBackend } from './types.js';

const SIZE = backendValue.size;
const INITIAL_ROWS = 1024;

export class BackendTable {
  private values = Buffer.alloc(INITIAL_ROWS * SIZE);
  private refCounts = new Uint32Array(INITIAL_ROWS);
  /** Canonical text of IPv6 rows, by row. */
  private readonly ipv6Text = new Map<number, string>();
  /** Rows by backend id: ids are handed out one after another. */
  private readonly rowOf = new NumberIndex(1024, 'dense');
  private idByKey = new BackendKeyIndex();
  private readonly freeRows: number[] = [];
  private rowsUsed = 0;

  get size(): number {
    return this.rowOf.size;
  }

  has(id: number): boolean {
    return this.rowOf.has(id);
  }

  ids(): number[] {
    const ids: number[] = [];
    this.rowOf.forEach((_, id) => ids.push(id));
    return ids;
  }

  idOf(key: BackendKey): number | undefined {
    return this.idByKey.get(key);
  }

  /** idOf() of an IPv4 backend, as BackendKeyIndex.getIpv4() takes it. */
  idOfIpv4(address: number, port: number): number | undefined {
    return this.idByKey.getIpv4(address, port);
  }

  /** Makes room for `extra` more backends at once, as before a bulk load. */
  reserve(extra: number): void {
    this.rowOf.reserve(extra);
    this.idByKey.reserve(extra);
    this.reserveRows(extra);
  }

  private reserveRows(extra: number): void {
    let rows = this.refCounts.length;
    while (this.rowsUsed + extra > rows) rows *= 2;
    if (rows > this.refCounts.length) this.growRows(rows);
  }

  /** Records a backend whose value bytes, value[at..at+24), the kernel accepted. */
  add(id: number, key: BackendKey, address: string, value: Buffer, at = 0): void {
    const row = this.freeRows.pop() ?? this.newRow();
    // Byte by byte: Buffer.copy() of a part makes a view object first, once per backend.
    const to = row * SIZE;
    for (let i = 0; i < SIZE; i++) this.values[to + i] = value[at + i]!;
    this.index(id, row, key, address);
  }

  /**
   * Records the backends of a bulk load the kernel accepted: ids[k]'s value bytes are
   * values[k*24..), its canonical address text addresses[k], and refs[k] slots name it.
   * `index` has each one's id by key; a table that has no backend yet takes it over rather
   * than indexing them all again, and the caller must not change it after.
   */
  addBatch(ids: ArrayLike<number>, addresses: readonly string[], values: Buffer, refs: ArrayLike<number>, index: BackendKeyIndex): void {
    const adopt = this.idByKey.size === 0;
    if (adopt) this.idByKey = index;
    else this.idByKey.reserve(ids.length);
    this.rowOf.reserve(ids.length);
    this.reserveRows(ids.length);
    // Into rows never used yet, the values go in one copy; reused rows take them one by one.
    const fresh = this.freeRows.length === 0;
    if (fresh) values.copy(this.values, this.rowsUsed * SIZE, 0, ids.length * SIZE);
    for (let k = 0; k < ids.length; k++) {
      const row = fresh ? this.rowsUsed++ : (this.freeRows.pop() ?? this.newRow());
      if (!fresh) for (let i = 0; i < SIZE; i++) this.values[row * SIZE + i] = values[k * SIZE + i]!;
      const address = addresses[k]!;
      if (backendValue.family(this.values, row * SIZE) === 6) this.ipv6Text.set(row, address); // keyOfRow reads it
      if (adopt) this.rowOf.set(ids[k]!, row);
      else this.index(ids[k]!, row, this.keyOfRow(row), address);
      this.refCounts[row] = refs[k]!;
    }
  }

  /**
   * Records a backend read back from the kernel, normalised to the bytes this writer would
   * write for it, so that whatever else is in the kernel's copy shows up as drift.
   */
  addFromKernel(id: number, value: Buffer, at: number): void {
    const row = this.freeRows.pop() ?? this.newRow();
    backendValue.normalise(value, at, this.values, row * SIZE);
    const address = backendValue.family(value, at) === 6 ? readAddress(value, at, 6) : '';
    if (address) this.ipv6Text.set(row, address); // keyOfRow reads it
    this.index(id, row, this.keyOfRow(row), address);
  }

  remove(id: number): void {
    const row = this.rowOf.get(id);
    if (row === undefined) return;
    // Two ids may share an address:port in maps read back after a crash; the index keeps the
    // other one.
    const key = this.keyOfRow(row);
    if (this.idByKey.get(key) === id) this.idByKey.delete(key);
    this.ipv6Text.delete(row);
    this.rowOf.delete(id);
    this.freeRows.push(row);
  }

  refs(id: number): number {
    const row = this.rowOf.get(id);
    return row === undefined ? 0 : this.refCounts[row]!;
  }

  retain(id: number): void {
    const row = this.rowOf.get(id);
    if (row !== undefined) this.refCounts[row]!++;
  }

  /** Drops one reference; true when it was the last, and the caller must delete the backend. */
  release(id: number): boolean {
    const row = this.rowOf.get(id);
    if (row === undefined) return false;
    const refs = Math.max(0, this.refCounts[row]! - 1);
    this.refCounts[row] = refs;
    return refs === 0;
  }

  /** The programmed value bytes, as a view: valid until the table changes. */
  value(id: number): Buffer | undefined {
    const row = this.rowOf.get(id);
    return row === undefined ? undefined : this.values.subarray(row * SIZE, (row + 1) * SIZE);
  }

  sameValue(id: number, value: Buffer, at = 0): boolean {
    const row = this.rowOf.get(id);
    return row !== undefined && this.values.compare(value, at, at + SIZE, row * SIZE, (row + 1) * SIZE) === 0;
  }

  setValue(id: number, value: Buffer, at = 0): void {
    const row = this.rowOf.get(id);
    if (row !== undefined) value.copy(this.values, row * SIZE, at, at + SIZE);
  }

  programmed(id: number): ProgrammedBackend | undefined {
    const row = this.rowOf.get(id);
    if (row === undefined) return undefined;
    const at = row * SIZE;
    return {
      id,
      address: backendValue.family(this.values, at) === 6 ? this.ipv6Text.get(row)! : readAddress(this.values, at, 4),
      port: backendValue.port(this.values, at),
      nodeId: backendValue.nodeId(this.values, at),
      terminating: backendValue.terminating(this.values, at),
    };
  }

  private index(id: number, row: number, key: BackendKey, address: string): void {
    this.refCounts[row] = 0;
    this.rowOf.set(id, row);
    this.idByKey.set(key, id);
    if (typeof key === 'string') this.ipv6Text.set(row, address);
  }

  private keyOfRow(row: number): BackendKey {
    const at = row * SIZE;
    const port = backendValue.port(this.values, at);
    if (backendValue.family(this.values, at) === 6) return ipv6BackendKey(this.ipv6Text.get(row)!, port);
    return ipv4BackendKey(backendValue.ipv4(this.values, at), port);
  }

  private newRow(): number {
    if (this.rowsUsed === this.refCounts.length) this.growRows(this.refCounts.length * 2);
    return this.rowsUsed++;
  }

  private growRows(rows: number): void {
    const values = Buffer.alloc(rows * SIZE);
    this.values.copy(values);
    this.values = values;
    const refs = new Uint32Array(rows);
    refs.set(this.refCounts);
    this.refCounts = refs;
  }
}
