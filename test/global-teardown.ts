/*
 * After the whole vitest run: the kernel lab's shared parents, <cgroup2>/nearby-test and the
 * bpffs directory /sys/fs/bpf/nearby, go when nothing is left in them. Each lab removes its own
 * cgroups and pin roots; the parents are shared by every lab (and by an agent running on the
 * machine), so only the end of the run may take them, and only empty: rmdir refuses a cgroup with
 * children or processes and a directory with pins, which are then someone else's and stay.
 */
import { rmdirSync } from 'node:fs';
import { cgroupBase, PIN_BASE } from '../lab/kernel-lab/index.js';

function removeIfEmpty(path: () => string): void {
  try {
    rmdirSync(path());
  } catch {
    // Not there, not empty, or no kernel lab on this machine: nothing of ours to remove.
  }
}

export function teardown(): void {
  removeIfEmpty(cgroupBase);
  removeIfEmpty(() => PIN_BASE);
}
