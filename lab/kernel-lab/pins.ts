/**
 * Per-node pin roots on bpffs, /sys/fs/bpf/nearby/<nodeName>. The datapath creates and fills
 * them; the harness only names them and removes them. Removing is unlinking: a pinned link or
 * map goes away once nothing else holds it, which detaches the program.
 */
import { readdirSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { pinBaseOf } from '../layout.js';
import { NETNS_PREFIX } from './names.js';
import { BPFFS } from './prereqs.js';

export const PIN_BASE = pinBaseOf(BPFFS);

export function pinRootFor(nodeName: string): string {
  return join(PIN_BASE, nodeName);
}

/** Pin roots that carry the harness's prefix; other agents' pins are not listed. */
export function listHarnessPinRoots(): string[] {
  try {
    return readdirSync(PIN_BASE)
      .filter((name) => name.startsWith(NETNS_PREFIX))
      .map((name) => join(PIN_BASE, name));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

export function removePinRoot(path: string): void {
  if (dirname(path) !== PIN_BASE || !basename(path).startsWith(NETNS_PREFIX)) {
    throw new Error(`refusing to remove ${path}: not a harness pin root under ${PIN_BASE}`);
  }
  rmSync(path, { recursive: true, force: true });
}
