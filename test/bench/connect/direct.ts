/*
 * Direct connects to the measured Service's first endpoint. `direct` is the floor: from a cgroup
 * no BPF program is attached to, nothing but the kernel's own TCP path is in the way.
 * `direct_hooked` dials the same address from the cgroup nearby's agent attached to: what its
 * programs cost a connect that is not to a Service (a miss in the services map, the socket
 * storage and sock_ops callbacks), which tells that fixed cost apart from the VIP translation.
 */
import type { ConnectSystem, Target } from './system.js';
import { measuredEndpoints, type Layout, TARGET_PORT } from './manifests.js';
import type { ConnectLab } from './connect-lab.js';

function direct(name: string, layout: Layout, cgroup: (lab: ConnectLab) => Promise<string>): ConnectSystem {
  return {
    name,
    async setup(lab: ConnectLab): Promise<Target> {
      return { address: measuredEndpoints(layout)[0]!, port: TARGET_PORT, cgroupPath: await cgroup(lab) };
    },
    loaded: () => ({ services: 0, endpoints: 0 }),
    extras: () => ({}),
    teardown: () => Promise.resolve(),
  };
}

export function directSystem(layout: Layout): ConnectSystem {
  return direct('direct', layout, async (lab) => (await lab.node('bare')).cgroupPath);
}

/** Set up after `hooked`, whose target's cgroup it dials from. */
export function directHookedSystem(layout: Layout, hooked: () => Target | undefined): ConnectSystem {
  return direct('direct_hooked', layout, () => {
    const target = hooked();
    if (!target) return Promise.reject(new Error('direct_hooked is set up after the system whose cgroup it uses'));
    return Promise.resolve(target.cgroupPath);
  });
}
