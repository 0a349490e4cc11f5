/* Interface names the lab derives from longer names: Linux allows at most 15 characters. */

/** `prefix` and a base-36 hash of `key`, cut to 15 characters: stable, so it can be found again from the key alone. */
export function hashedDeviceName(prefix: string, key: string): string {
  let h = 0;
  for (const c of key) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return `${prefix}${h.toString(36)}`.slice(0, 15);
}
