/**
 * The kernel lab's network namespaces: only `lo`, up, and no route out. Pod addresses are added to
 * `lo`, so traffic between a client and a pod never leaves the namespace, and a connect to any
 * address not assigned here fails locally with ENETUNREACH. The primitives are the lab's
 * (../netns.ts), run with the `ip` that kernelEnv() found.
 */
import { run } from '../exec.js';
import * as netns from '../netns.js';
import { kernelEnv } from './prereqs.js';

export { netnsPath } from '../netns.js';

const ip = (): string => kernelEnv().ip;

export const listNetns = (): Promise<string[]> => netns.listNetns(ip());
export const deleteNetns = (name: string): Promise<void> => netns.deleteNetns(ip(), name);
/** PIDs of processes whose network namespace is this one. */
export const netnsPids = (name: string): Promise<number[]> => netns.netnsPids(ip(), name);
/** IPv4 as /32 and IPv6 as /128 on lo. */
export const addAddress = (name: string, address: string): Promise<void> => netns.addLoopbackAddress(ip(), name, address);
/** Only lo, no route out; throws describing what is wrong. */
export const assertIsolated = (name: string): Promise<void> => netns.assertOnlyLoopback(ip(), name);

export async function createNetns(name: string): Promise<void> {
  await netns.createNetns(ip(), name);
  await run(ip(), ['-n', name, 'link', 'set', 'lo', 'up']);
  await assertIsolated(name);
}
