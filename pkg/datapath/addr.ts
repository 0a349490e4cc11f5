/*
 * IP address text <-> the 16-byte network-order form the maps use (IPv4 in the first 4 bytes).
 * Parsing itself is pkg/ip's; this file only places the bytes. A malformed address is a caller
 * bug and must never become a zero address in a map.
 */
import { ipFromBytes, ipToBytes } from '../ip/index.js';
import type { Family } from './types.js';

function parse(address: string): { family: Family; bytes: Uint8Array } {
  const ip = ipToBytes(address);
  if (!ip) throw new TypeError(`not an IP address: ${JSON.stringify(address)}`);
  return ip;
}

export function familyOf(address: string): Family {
  return parse(address).family;
}

/** Writes the address into buf[off..off+16) and returns its family. */
export function writeAddress(buf: Buffer, off: number, address: string): Family {
  const { family, bytes } = parse(address);
  buf.set(bytes, off);
  return family;
}

export function readAddress(buf: Buffer, off: number, family: Family): string {
  return ipFromBytes(buf.subarray(off, off + 16), family);
}

/** Canonical text form, so that two spellings of one address compare equal. */
export function canonicalAddress(address: string): string {
  const { family, bytes } = parse(address);
  return ipFromBytes(bytes, family);
}
