/*
 * Pod names as a Deployment makes them: <deployment>-<pod-template-hash>-<5 random>. The hash
 * is a 32-bit FNV-1a of the pod template, written in decimal and mapped digit by digit onto
 * Kubernetes' "safe" alphabet (no vowels, no look-alikes), which is why real hashes like
 * 6d6fdfd856 only ever use the characters 4-9, b, c, d and f.
 */
import { randomInt } from 'node:crypto';

const SAFE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

function safeEncode(text: string): string {
  return Array.from(text, (c) => SAFE_ALPHABET[c.charCodeAt(0) % SAFE_ALPHABET.length]).join('');
}

/** Key order does not change the hash: the template is hashed in a canonical form. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  // JSON.stringify(undefined) is undefined, not text, though its type says string: an unset field hashes as null.
  if (value === undefined) return 'null';
  return JSON.stringify(value);
}

export function podTemplateHash(template: unknown): string {
  return safeEncode(String(fnv1a32(canonicalJson(template))));
}

export function randomSuffix(length = 5): string {
  return Array.from({ length }, () => SAFE_ALPHABET[randomInt(SAFE_ALPHABET.length)]).join('');
}

/** The pod's hostname: its name cut to 63 characters, as the kubelet does. */
export function podHostname(podName: string): string {
  return podName.length <= 63 ? podName : podName.slice(0, 63).replace(/[-.]+$/, '');
}
