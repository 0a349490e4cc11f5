/*
 * The floor: a connect straight to the measured Service's first endpoint, from a cgroup that no
 * BPF program is attached to, so nothing but the kernel's own TCP path is in the way.
 */
import type { ConnectSystem, Target } from './system.js';
import { measuredEndpoints, type Layout, TARGET_PORT } from './manifests.js';
import type { ConnectLab } from './connect-lab.js';

export function directSystem(layout: Layout): ConnectSystem {
  return {
    name: 'direct',
    async setup(lab: ConnectLab): Promise<Target> {
      const bare = await lab.node('bare');
      return { address: measuredEndpoints(layout)[0]!, port: TARGET_PORT, cgroupPath: bare.cgroupPath };
    },
    loaded: () => ({ services: 0, endpoints: 0 }),
    extras: () => ({}),
    teardown: () => Promise.resolve(),
  };
}
