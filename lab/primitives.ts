/*
 * The machine-level pieces the lab is built on, for code that needs them without the lab itself
 * (the kernel test harness): finding cgroup2 and executables, signalling processes by PID with a
 * start-time check against PID reuse, and listing or removing a cgroup subtree confined to a root.
 * Importing index.ts instead would load the whole lab (client, supervisor, manifests) for these.
 */
export { findCgroup2, findExecutable, isMounted } from './host.js';
export { isLivePid, isRunning, refOf, sleep, terminate, waitUntil, type ProcessRef } from './processes.js';
export { removeCgroupTree, treePids } from './cgroups.js';
