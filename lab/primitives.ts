/*
 * The machine-level pieces the lab (and its kernel lab, kernel-lab/) is built on, for tests that
 * need them without the lab itself: finding cgroup2 and executables, signalling processes by PID
 * with a start-time check against PID reuse, and listing or removing a cgroup subtree confined to
 * a root. Importing index.ts instead would load the whole lab (client, supervisor, manifests).
 */
export { findCgroup2, findExecutable, isMounted } from './host.js';
export { isLivePid, isRunning, refOf, sleep, terminate, terminatePids, waitUntil, type ProcessRef } from './processes.js';
export { removeCgroupTree, treePids } from './cgroups.js';
