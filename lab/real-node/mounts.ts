/*
 * containerd and the kubelet leave mounts under a node's dirs (overlay rootfs, shm, the sandbox
 * netns bind mounts, the kubelet's volume tmpfs): they must be unmounted, deepest first, before the
 * state dir can be removed, or rm would reach into a mounted filesystem.
 */
import { readFileSync } from 'node:fs';
import { run } from '../exec.js';

/** /proc/self/mountinfo escapes space, tab, newline and backslash as octal. */
function unescape(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_m, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

/** Mount points at or under `dir`, deepest first. */
export function mountsUnder(dir: string): string[] {
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  const points = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => unescape(line.split(' ')[4] ?? ''))
    .filter((point) => point === dir || point.startsWith(prefix));
  return [...new Set(points)].sort((a, b) => b.length - a.length);
}

/** Unmounts (lazily, so a busy one still detaches) everything under `dir`; returns what it unmounted. */
export async function unmountUnder(dir: string): Promise<string[]> {
  const done: string[] = [];
  // A mount point may be stacked several times: repeat until none is left.
  for (let round = 0; round < 5; round++) {
    const points = mountsUnder(dir);
    if (points.length === 0) break;
    for (const point of points) if (await umount(point)) done.push(point);
  }
  return done;
}

async function umount(point: string): Promise<boolean> {
  try {
    await run('umount', ['-l', point]);
    return true;
  } catch {
    return false;
  }
}
