/*
 * What the writer benchmarks share: the synthetic services they program (FAILOVER over three
 * tiers, pods on three nodes) and one lab node to program them on, torn down however the run ends.
 */
import type { ServiceSpec } from '../../pkg/datapath/index.js';
import { unpinDatapath } from '../../pkg/datapath/index.js';
import { assertKernelPrereqs, cleanupLeftovers, KernelLab, type SimNode } from '../../lab/kernel-lab/index.js';

export const podAddress = (i: number): string => `10.${128 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;
export const vip = (s: number): string => `10.96.${s >> 8}.${s & 255}`;

/**
 * Service `s` with `endpoints` pods split 2 / 3 / the rest over three tiers, as FAILOVER over
 * zone and region would give; `shift` rotates which pod lands in which tier (an update).
 */
export function benchSpec(s: number, endpoints: number, shift = 0): ServiceSpec {
  const pods = Array.from({ length: endpoints }, (_, e) => ({
    address: podAddress(s * endpoints + ((e + shift) % endpoints)),
    port: 8080,
    nodeId: e % 3,
    terminating: false,
  }));
  return {
    key: { address: vip(s), port: 80, protocol: 'TCP' },
    label: `bench/svc-${s}`,
    mode: 'FAILOVER',
    tiers: [pods.slice(0, 2), pods.slice(2, 5), pods.slice(5)],
  };
}

/** Runs `body` on a fresh lab node, then removes the node's pins and the lab; sets the exit code on failure. */
export function runOnBenchNode(labName: string, body: (node: SimNode) => void | Promise<void>): void {
  const main = async (): Promise<void> => {
    assertKernelPrereqs();
    await cleanupLeftovers();
    const lab = await KernelLab.create(labName);
    try {
      const node = await lab.addNode('w1');
      try {
        await body(node);
      } finally {
        unpinDatapath(node.pinRoot);
      }
    } finally {
      await lab.destroy();
    }
  };
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
