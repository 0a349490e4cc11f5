/* `nearbyctl maps`: what the pinned maps of a node hold now, read-only. */
import { join } from 'node:path';
import type { PinnedState } from '../../pkg/datapath/index.js';

export function pinRootOf(bpffs: string, node: string): string {
  return join(bpffs, 'nearby', node);
}

/** Plain JSON: bigint counters become numbers (they stay far below 2^53 in practice). */
export function mapsJson(state: PinnedState): unknown {
  return {
    pinRoot: state.pinRoot,
    backends: state.backends,
    holes: state.holes,
    services: state.services.map((s) => ({
      id: s.id,
      vip: s.key.address,
      port: s.key.port,
      protocol: s.key.protocol,
      mode: s.mode,
      ...(s.mode === 'WEIGHTED' ? { weights: s.weights } : {}),
      tiers: s.tiers.map((t) => ({
        endpoints: t.map((b) => ({
          id: b.id,
          address: b.address,
          port: b.port,
          nodeId: b.nodeId,
          terminating: b.terminating,
          ...(state.ejected.has(b.id) ? { ejectedForMs: state.ejected.get(b.id)!.remainingMs } : {}),
        })),
      })),
      connects: state.counters
        .filter((c) => c.svcId === s.id)
        .map((c) => ({
          tier: c.tier,
          attempts: Number(c.attempts),
          established: Number(c.established),
          failed: Number(c.failed),
          refused: Number(c.refused),
        })),
    })),
  };
}

export function mapsText(state: PinnedState): string {
  const lines = [
    `${state.pinRoot}: ${state.services.length} services, ${state.backends} backends${state.holes ? `, ${state.holes} holes` : ''}`,
  ];
  for (const s of state.services) {
    const vip = s.key.address.includes(':') ? `[${s.key.address}]` : s.key.address;
    lines.push(`svc ${s.id} ${vip}:${s.key.port}/${s.key.protocol} ${s.mode}`);
    s.tiers.forEach((tier, t) => {
      if (tier.length === 0) return;
      const counters = state.counters.find((c) => c.svcId === s.id && c.tier === t);
      const connects = counters ? ` (connects ${counters.attempts}, failed ${counters.failed + counters.refused})` : '';
      const backends = tier
        .map((b) => `${b.address}:${b.port}${b.terminating ? ' terminating' : ''}${ejectedText(state, b.id)} node#${b.nodeId}`)
        .join(', ');
      lines.push(`  tier ${t}${connects}: ${backends}`);
    });
  }
  return lines.join('\n');
}

/** " ejected 12.3s" for a backend outlier detection ejected, "" otherwise. */
function ejectedText(state: PinnedState, id: number): string {
  const e = state.ejected.get(id);
  return e ? ` ejected ${formatRemaining(e.remainingMs)}` : '';
}

export function formatRemaining(ms: number): string {
  return ms >= 10_000 ? `${Math.round(ms / 1000)}s` : `${(ms / 1000).toFixed(1)}s`;
}
