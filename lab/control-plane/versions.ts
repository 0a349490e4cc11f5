/*
 * The Kubernetes release (and its etcd) the lab's control plane runs. The pin lives in
 * test/control-plane/versions.env because the build script reads it too; one file means the
 * binaries found here and the binaries built there cannot drift apart.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LabError } from '../errors.js';
import { PROJECT_ROOT } from '../programs.js';

export const VERSIONS_FILE = join(PROJECT_ROOT, 'test/control-plane/versions.env');

export interface PinnedVersions {
  /** The Kubernetes release, as its binaries report it: v1.36.3. */
  readonly kubernetes: string;
  /** The etcd release, as etcd reports it (no leading v): 3.6.8. */
  readonly etcd: string;
}

export function readPinnedVersions(file: string = VERSIONS_FILE): PinnedVersions {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new LabError('prereq', `cannot read the pinned control-plane versions from ${file}`, { cause: error });
  }
  const values = new Map<string, string>();
  for (const line of text.split('\n')) {
    const match = /^\s*([A-Z0-9_]+)=(\S+)\s*$/.exec(line);
    if (match) values.set(match[1]!, match[2]!);
  }
  const kubernetes = values.get('K8S_VERSION');
  const etcd = values.get('ETCD_VERSION');
  if (!kubernetes || !/^v1\.\d+\.\d+$/.test(kubernetes)) {
    throw new LabError('invalid', `${file}: K8S_VERSION must be a v1.<minor>.<patch> release, got ${kubernetes ?? 'nothing'}`);
  }
  if (!etcd || !/^v3\.\d+\.\d+$/.test(etcd)) {
    throw new LabError('invalid', `${file}: ETCD_VERSION must be a v3.<minor>.<patch> release, got ${etcd ?? 'nothing'}`);
  }
  return { kubernetes, etcd: etcd.slice(1) };
}
