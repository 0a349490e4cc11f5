/*
 * IP address text <-> the 16-byte network-order form the maps use (IPv4 in the first 4 bytes).
 * Parsing itself is pkg/ip's; this file only places the bytes. A malformed address is a caller
 * bug and must never become a zero address in a map.
 */
import { ipFromBytes, ipToBytes, ipv4ToNumber } from '../ip/index.js';
import type { Family } from './types.js';

/** An address parsed once, for callers that need its bytes and its canonical text. */
export interface ParsedAddress {
  readonly family: Family;
  /** 16 bytes, network order, IPv4 in the first 4. */
  readonly bytes: Uint8Array;
  readonly canonical: string;
}

export function parseAddress(address: string): ParsedAddress {
  const ip = ipToBytes(address);
  if (!ip) throw new TypeError(`not an IP address: ${JSON.stringify(address)}`);
  // pkg/ip accepts an IPv4 text only in its canonical form (no leading zeros, no spaces), so
  // the text itself is kept: no new string, and the caller's is shared.
  return { family: ip.family, bytes: ip.bytes, canonical: ip.family === 4 ? address : ipFromBytes(ip.bytes, 6) };
}

export function familyOf(address: string): Family {
  return parseAddress(address).family;
}

/** Writes the address into buf[off..off+16) and returns its family. */
export function writeAddress(buf: Buffer, off: number, address: string): Family {
  // IPv4, nearly every service address, without the object and the 16-byte array of a parse.
  const v4 = ipv4ToNumber(address);
  if (v4 >= 0) {
    buf.writeUInt32BE(v4, off);
    for (let o = 4; o < 16; o += 4) buf.writeUInt32LE(0, off + o);
    return 4;
  }
  const { family, bytes } = parseAddress(address);
  buf.set(bytes, off);
  return family;
}

/** IPv4 bytes are copied here rather than viewed: a view is an object, made 100,000 times a pass. */
const ipv4Scratch = new Uint8Array(4);

export function readAddress(buf: Buffer, off: number, family: Family): string {
  if (family === 6) return ipFromBytes(buf.subarray(off, off + 16), 6);
  for (let i = 0; i < 4; i++) ipv4Scratch[i] = buf[off + i]!;
  return ipFromBytes(ipv4Scratch, 4);
}

/** Canonical text form, so that two spellings of one address compare equal. */
export function canonicalAddress(address: string): string {
  return parseAddress(address).canonical;
}
