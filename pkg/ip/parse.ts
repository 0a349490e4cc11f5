/**
 * IP parsing without node:net, so pure layers can use it anywhere. Addresses come back in one
 * canonical form (IPv6 per RFC 5952) because the planner compares and deduplicates them as
 * strings, and the datapath keys backends by them. This is the only IP parser in the project.
 */

export type IpFamily = 4 | 6;

export interface IpAddress {
  readonly address: string;
  readonly family: IpFamily;
}

const IPV6_GROUP = /^[0-9a-f]{1,4}$/;
const DOT = 46;
const ZERO = 48;
const NINE = 57;

/**
 * An IPv4 text as one unsigned 32-bit number (first octet highest), or -1 when it is not one.
 * A hand-written scan rather than split and a regular expression, and no array: the agent
 * parses every endpoint address of the cluster, and this is its hottest loop.
 */
export function ipv4ToNumber(text: string): number {
  let address = 0;
  let octets = 0;
  let value = 0;
  let digits = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : DOT;
    if (c === DOT) {
      if (digits === 0 || octets === 4) return -1;
      address = address * 256 + value;
      octets++;
      value = 0;
      digits = 0;
      continue;
    }
    if (c < ZERO || c > NINE) return -1;
    // Leading zeros are refused: some parsers read them as octal, so their meaning is unclear.
    if (digits === 1 && value === 0) return -1;
    value = value * 10 + (c - ZERO);
    digits++;
    if (value > 255) return -1;
  }
  return octets === 4 ? address : -1;
}

/** Four decimal octets, or null. */
function parseIpv4Octets(text: string): number[] | null {
  const n = ipv4ToNumber(text);
  return n < 0 ? null : [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
}

function parseIpv6Groups(text: string): number[] | null {
  const lower = text.toLowerCase();
  const halves = lower.split('::');
  if (halves.length > 2) return null;

  const readSide = (side: string, allowTrailingIpv4: boolean): number[] | null => {
    if (side === '') return [];
    const groups: number[] = [];
    const parts = side.split(':');
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i] ?? '';
      if (allowTrailingIpv4 && i === parts.length - 1 && part.includes('.')) {
        const octets = parseIpv4Octets(part);
        if (!octets) return null;
        groups.push(((octets[0] ?? 0) << 8) | (octets[1] ?? 0), ((octets[2] ?? 0) << 8) | (octets[3] ?? 0));
        continue;
      }
      if (!IPV6_GROUP.test(part)) return null;
      groups.push(parseInt(part, 16));
    }
    return groups;
  };

  if (halves.length === 1) {
    const groups = readSide(lower, true);
    return groups?.length === 8 ? groups : null;
  }
  const head = readSide(halves[0] ?? '', false);
  const tail = readSide(halves[1] ?? '', true);
  if (!head || !tail) return null;
  const missing = 8 - head.length - tail.length;
  if (missing < 1) return null;
  return [...head, ...new Array<number>(missing).fill(0), ...tail];
}

function formatIpv6(groups: readonly number[]): string {
  const isV4Mapped = groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff;
  if (isV4Mapped) {
    const hi = groups[6] ?? 0;
    const lo = groups[7] ?? 0;
    return `::ffff:${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
  }
  // RFC 5952: compress the longest run of two or more zero groups, the first one on a tie.
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < groups.length;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < groups.length && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

/** The canonical form of an IPv4 or IPv6 address, or null when the text is neither. */
export function parseIp(text: string): IpAddress | null {
  if (text.includes(':')) {
    const groups = parseIpv6Groups(text);
    return groups ? { address: formatIpv6(groups), family: 6 } : null;
  }
  // A valid IPv4 text is already canonical (no leading zeros, no spaces): keep the same string.
  return ipv4ToNumber(text) >= 0 ? { address: text, family: 4 } : null;
}

/**
 * True when `text` is already the canonical form of an address of `family`, as parseIp() would
 * give it back; without the object parseIp() builds, since the model asks this of every endpoint.
 */
export function isCanonicalIp(text: string, family: IpFamily): boolean {
  if (!text.includes(':')) return family === 4 && ipv4ToNumber(text) >= 0;
  const ip = family === 6 ? parseIp(text) : null;
  return ip?.address === text;
}

/**
 * A string that sorts addresses numerically (10.0.0.9 before 10.0.0.10) and IPv4 before IPv6.
 * Text that is not an IP sorts after every address, by its own text.
 */
export function addressSortKey(text: string): string {
  if (text.includes(':')) {
    const groups = parseIpv6Groups(text);
    if (groups) return `6:${groups.map((g) => g.toString(16).padStart(4, '0')).join('')}`;
  } else {
    // The four octets, two hex digits each: the number in eight.
    const n = ipv4ToNumber(text);
    if (n >= 0) return `4:${n.toString(16).padStart(8, '0')}`;
  }
  return `x:${text}`;
}

/** The 16 network-order bytes the BPF maps use (IPv4 in the first 4), or null if not an IP. */
export function ipToBytes(text: string): { family: IpFamily; bytes: Uint8Array } | null {
  const bytes = new Uint8Array(16);
  if (text.includes(':')) {
    const groups = parseIpv6Groups(text);
    if (!groups) return null;
    groups.forEach((g, i) => {
      bytes[2 * i] = g >> 8;
      bytes[2 * i + 1] = g & 0xff;
    });
    return { family: 6, bytes };
  }
  const n = ipv4ToNumber(text);
  if (n < 0) return null;
  bytes[0] = n >>> 24;
  bytes[1] = (n >>> 16) & 255;
  bytes[2] = (n >>> 8) & 255;
  bytes[3] = n & 255;
  return { family: 4, bytes };
}

/** The canonical text of an address held as ipToBytes() gives it. */
export function ipFromBytes(bytes: Uint8Array, family: IpFamily): string {
  if (family === 4) return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push(((bytes[2 * i] ?? 0) << 8) | (bytes[2 * i + 1] ?? 0));
  return formatIpv6(groups);
}
