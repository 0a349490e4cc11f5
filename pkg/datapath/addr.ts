/*
 * IP address <-> the 16-byte network-order form the maps use (IPv4 in the first 4 bytes).
 * Parsing is strict: a malformed address is a caller bug and must not become a zero address.
 */
import { isIPv4, isIPv6 } from 'node:net';
import type { Family } from './types.js';

export function familyOf(address: string): Family {
  if (isIPv4(address)) return 4;
  if (isIPv6(address)) return 6;
  throw new TypeError(`not an IP address: ${JSON.stringify(address)}`);
}

/** Writes the address into buf[off..off+16) and returns its family. */
export function writeAddress(buf: Buffer, off: number, address: string): Family {
  buf.fill(0, off, off + 16);
  const family = familyOf(address);
  if (family === 4) {
    address.split('.').forEach((octet, i) => buf.writeUInt8(Number(octet), off + i));
    return 4;
  }
  const groups = expandIPv6(address);
  groups.forEach((g, i) => buf.writeUInt16BE(g, off + 2 * i));
  return 6;
}

export function readAddress(buf: Buffer, off: number, family: Family): string {
  if (family === 4) return `${buf[off]}.${buf[off + 1]}.${buf[off + 2]}.${buf[off + 3]}`;
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push(buf.readUInt16BE(off + 2 * i));
  return compressIPv6(groups);
}

/** Canonical text form, so that two spellings of one address compare equal. */
export function canonicalAddress(address: string): string {
  const buf = Buffer.alloc(16);
  return readAddress(buf, 0, writeAddress(buf, 0, address));
}

function expandIPv6(address: string): number[] {
  let text = address;
  const tail: number[] = [];
  const lastColon = text.lastIndexOf(':');
  const last = text.slice(lastColon + 1);
  if (last.includes('.')) {
    // Embedded IPv4 (e.g. ::ffff:10.0.0.1) stands for the last two groups.
    const o = last.split('.').map(Number) as [number, number, number, number];
    tail.push((o[0] << 8) | o[1], (o[2] << 8) | o[3]);
    text = text.slice(0, lastColon + 1) + '0'; // placeholder group, dropped below
  }
  const [head = '', rest] = text.split('::') as [string, string | undefined];
  const parse = (s: string): number[] => (s === '' ? [] : s.split(':').map((g) => parseInt(g, 16)));
  let left = parse(head);
  let right = rest === undefined ? [] : parse(rest);
  if (tail.length > 0) {
    if (rest === undefined) left = left.slice(0, -1);
    else right = right.slice(0, -1);
  }
  const fill = 8 - left.length - right.length - tail.length;
  return [...left, ...new Array<number>(Math.max(fill, 0)).fill(0), ...right, ...tail];
}

function compressIPv6(groups: number[]): string {
  // RFC 5952: collapse the longest run (>= 2) of zero groups, the first one on a tie.
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}
