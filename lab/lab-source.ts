/*
 * Where `nearbyctl plan|explain|maps --lab NAME` read a running lab's cluster: the manifest
 * directory a file-backed lab's agents read (--state-dir), or the admin kubeconfig of a lab on a
 * real control plane. Answered here, where the lab's layout is owned, so nearbyctl never
 * hard-codes it.
 */
import { existsSync } from 'node:fs';
import { LabError } from './errors.js';
import { adminKubeconfigPath, labStateFiles, RUN_BASE } from './layout.js';
import { isRunning } from './processes.js';
import { readRecord } from './record.js';

export type LabSource = { readonly state: string } | { readonly kubeconfig: string };

/** The running lab's cluster source; a LabError naming the lab when it is not up. */
export function labSource(name: string, runBase = RUN_BASE): LabSource {
  const files = labStateFiles(name, runBase);
  const down = `run nearbyctl lab up --name ${name}, or pass --state DIR or --kubeconfig FILE`;
  const record = readRecord(files.record);
  if (!record) throw new LabError('not-found', `lab ${name} is not running (nothing at ${files.stateDir}): ${down}`);
  if (!record.supervisor || !isRunning(record.supervisor))
    throw new LabError('not-found', `lab ${name} is not running (its supervisor is gone): ${down}`);
  if (record.controlPlane !== undefined) {
    const kubeconfig = adminKubeconfigPath(files.stateDir);
    if (!existsSync(kubeconfig)) throw new LabError('not-found', `lab ${name} has no kubeconfig yet at ${kubeconfig}`);
    return { kubeconfig };
  }
  return { state: files.clusterDir };
}
