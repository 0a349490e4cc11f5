// The writer's compact backend memory: what goes in comes out the same (IPv4 and IPv6), rows
// are reused while ids are not, and values read back from the kernel are normalised so that
// stray bits still show up as drift.
import { describe, expect, it } from 'vitest';
import { parseAddress } from '../../../pkg/datapath/addr.js';
import { backendKey } from '../../../pkg/datapath/identity.js';
import { BackendTable } from '../../../pkg/datapath/backend-table.js';
import { backendValue, type BackendValue } from '../../../pkg/datapath/codecs.js';

function add(table: BackendTable, id: number, v: BackendValue): void {
  const address = parseAddress(v.address);
  table.add(id, backendKey(address, v.port), address.canonical, backendValue.encode(v));
}

const v4 = (last: number, port = 8080): BackendValue => ({ address: `10.244.0.${last}`, port, nodeId: last, terminating: false });
const keyOf = (address: string, port: number) => backendKey(parseAddress(address), port);

describe('BackendTable', () => {
  it('gives back what was added, found by address and port', () => {
    const table = new BackendTable();
    add(table, 7, v4(1));
    add(table, 8, { address: 'FD00::0:1', port: 443, nodeId: 3, terminating: true });
    add(table, 9, v4(1, 9090));
    expect(table.programmed(7)).toEqual({ id: 7, address: '10.244.0.1', port: 8080, nodeId: 1, terminating: false });
    expect(table.programmed(8)).toEqual({ id: 8, address: 'fd00::1', port: 443, nodeId: 3, terminating: true });
    expect(table.idOf(keyOf('10.244.0.1', 8080))).toBe(7);
    expect(table.idOf(keyOf('10.244.0.1', 9090))).toBe(9);
    expect(table.idOf(keyOf('fd00:0::1', 443))).toBe(8);
    expect(table.idOf(keyOf('fd00::1', 444))).toBeUndefined();
    expect(table.value(8)).toEqual(backendValue.encode({ address: 'fd00::1', port: 443, nodeId: 3, terminating: true }));
    expect(table.size).toBe(3);
  });

  it('counts references and frees a row for reuse once the last goes', () => {
    const table = new BackendTable();
    add(table, 1, v4(1));
    table.retain(1);
    table.retain(1);
    expect(table.release(1)).toBe(false);
    expect(table.release(1)).toBe(true);
    table.remove(1);
    expect([table.has(1), table.idOf(keyOf('10.244.0.1', 8080)), table.programmed(1)]).toEqual([false, undefined, undefined]);
    add(table, 2, v4(2));
    expect(table.programmed(2)).toEqual({ id: 2, address: '10.244.0.2', port: 8080, nodeId: 2, terminating: false });
    expect(table.refs(2)).toBe(0);
  });

  it('holds 5,000 backends through growth and churn', () => {
    const table = new BackendTable();
    const value = (i: number): BackendValue => ({
      address: `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`,
      port: 80,
      nodeId: i,
      terminating: i % 2 === 0,
    });
    for (let i = 1; i <= 5000; i++) add(table, i, value(i));
    for (let i = 1; i <= 5000; i += 3) table.remove(i);
    for (let i = 5001; i <= 6000; i++) add(table, i, value(i));
    for (let i = 1; i <= 6000; i++) {
      const gone = i <= 5000 && i % 3 === 1;
      expect(table.programmed(i)).toEqual(gone ? undefined : { id: i, ...value(i) });
      expect(table.idOf(keyOf(value(i).address, 80))).toBe(gone ? undefined : i);
    }
  });

  it('keeps the index entry of the other id when two ids share an address (maps left by a crash)', () => {
    const table = new BackendTable();
    add(table, 1, v4(5));
    add(table, 2, v4(5)); // the index now names 2
    table.remove(1);
    expect(table.idOf(keyOf('10.244.0.5', 8080))).toBe(2);
  });

  it('compares and replaces value bytes in place', () => {
    const table = new BackendTable();
    add(table, 1, v4(1));
    const changed = backendValue.encode({ ...v4(1), terminating: true });
    expect(table.sameValue(1, changed)).toBe(false);
    table.setValue(1, changed);
    expect(table.sameValue(1, changed)).toBe(true);
    expect(table.programmed(1)!.terminating).toBe(true);
  });

  it('normalises a value read back from the kernel to the bytes this writer would write', () => {
    const table = new BackendTable();
    const kernel = Buffer.alloc(32, 0xee);
    backendValue.encode(v4(9), kernel, 4);
    kernel[4 + 6] = 0xaa; // garbage in the unused bytes of an IPv4 address
    kernel[4 + 19] = kernel[4 + 19]! | 0x80; // and an unknown flag bit
    table.addFromKernel(3, kernel, 4);
    expect(table.value(3)).toEqual(backendValue.encode(v4(9)));
    expect(table.idOf(keyOf('10.244.0.9', 8080))).toBe(3);
    const v6 = backendValue.encode({ address: 'fd00::9', port: 53, nodeId: 0, terminating: false });
    table.addFromKernel(4, v6, 0);
    expect(table.programmed(4)).toEqual({ id: 4, address: 'fd00::9', port: 53, nodeId: 0, terminating: false });
    expect(table.idOf(keyOf('fd00::9', 53))).toBe(4);
  });
});
