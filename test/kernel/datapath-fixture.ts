/*
 * One simulated node with the real datapath loaded on its cgroup, plus helpers to describe
 * services tersely. Every kernel suite builds on this and tears it down in afterAll.
 */
import { Datapath, type BackendSpec, type MapSizes, type ModeName, type ServiceSpec, unpinDatapath } from '../../pkg/datapath/index.js';
import { assertKernelPrereqs, cleanupLeftovers, KernelLab, type SimNode } from '../../lab/kernel-lab/index.js';
import type { ConnectResult } from '../../lab/kernel-lab/index.js';

export const SMALL_SIZES: MapSizes = { services: 256, backends: 256, slots: 1024, revNat: 1024, counters: 2048 };

export interface KernelNode {
  lab: KernelLab;
  node: SimNode;
  dp: Datapath;
  /** Closes the datapath handles and opens them again from the pins, like an agent restart. */
  reopen(sizes?: Partial<MapSizes>): Datapath;
  destroy(): Promise<void>;
}

export async function kernelNode(labName: string, sizes: Partial<MapSizes> = SMALL_SIZES): Promise<KernelNode> {
  assertKernelPrereqs();
  await cleanupLeftovers();
  const lab = await KernelLab.create(labName);
  try {
    const node = await lab.addNode('w1');
    const open = (s: Partial<MapSizes>): Datapath => Datapath.open({ pinRoot: node.pinRoot, cgroupPath: node.cgroupPath, sizes: s });
    const kn: KernelNode = {
      lab,
      node,
      dp: open(sizes),
      reopen(s = sizes) {
        kn.dp.close();
        kn.dp = open(s);
        return kn.dp;
      },
      async destroy() {
        try {
          kn.dp.close();
        } finally {
          unpinDatapath(node.pinRoot);
          await lab.destroy();
        }
      },
    };
    return kn;
  } catch (err) {
    await lab.destroy();
    throw err;
  }
}

export function be(address: string, port = 8080, terminating = false): BackendSpec {
  return { address, port, nodeId: 0, terminating };
}

export function svc(
  address: string,
  port: number,
  mode: ModeName,
  tiers: BackendSpec[][],
  protocol: 'TCP' | 'UDP' = 'TCP',
  weights?: number[],
): ServiceSpec {
  return { key: { address, port, protocol }, label: `test/${mode.toLowerCase()}`, mode, tiers, ...(weights ? { weights } : {}) };
}

/** How many connects each pod answered, plus failures by errno. */
export function tally(results: ConnectResult[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of results) {
    const k = r.ok ? r.answer! : `!${r.errno}`;
    out[k] = (out[k] ?? 0) + 1;
  }
  return out;
}
