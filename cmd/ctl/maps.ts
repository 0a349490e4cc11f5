/* `nearbyctl maps`: what the pinned maps of a node hold now, read-only. */
import { join } from 'node:path';
import type { PinnedState, TierCounters } from '../../pkg/datapath/index.js';
import { serviceKeyText } from '../../pkg/datapath/index.js';
import type { Snapshot } from '../../pkg/model/index.js';
import { failingOpenNow, failOpenHeadline } from './fail-open-view.js';

/**
 * What the maps cannot say: they hold VIPs, addresses and node numbers that only the agent that
 * wrote them can map back. With a SOURCE, `maps` names them from the cluster's objects.
 */
export interface MapNames {
  /** "ns/name" of the Service a VIP belongs to. */
  service(vip: string): string | undefined;
  /** The node an endpoint address runs on. */
  node(address: string): string | undefined;
}

export function namesFrom(snapshot: Snapshot): MapNames {
  const services = new Map<string, string>();
  for (const svc of snapshot.services.values()) for (const ip of svc.clusterIPs) services.set(ip.address, svc.key);
  const nodes = new Map<string, string>();
  for (const slices of snapshot.endpointSlices.values())
    for (const slice of slices) for (const e of slice.endpoints) if (e.nodeName) for (const a of e.addresses) nodes.set(a, e.nodeName);
  return { service: (vip) => services.get(vip), node: (address) => nodes.get(address) };
}

export function pinRootOf(bpffs: string, node: string): string {
  return join(bpffs, 'nearby', node);
}

/** Plain JSON: bigint counters become numbers (they stay far below 2^53 in practice). */
export function mapsJson(state: PinnedState, names?: MapNames): unknown {
  return {
    pinRoot: state.pinRoot,
    backends: state.backends,
    holes: state.holes,
    failOpen: state.failOpen ?? null,
    services: state.services.map((s) => ({
      id: s.id,
      ...(names ? { service: names.service(s.key.address) ?? null } : {}),
      vip: s.key.address,
      port: s.key.port,
      protocol: s.key.protocol,
      mode: s.mode,
      failingOpen: failingOpenNow(state, serviceKeyText(s.key)),
      ...(s.mode === 'WEIGHTED' ? { weights: s.weights } : {}),
      tiers: s.tiers.map((t) => ({
        endpoints: t.map((b) => ({
          id: b.id,
          address: b.address,
          port: b.port,
          nodeId: b.nodeId,
          ...(names ? { node: names.node(b.address) ?? null } : {}),
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

function sum(counters: readonly TierCounters[], field: 'attempts' | 'established' | 'failed' | 'refused'): bigint {
  return counters.reduce((n, c) => n + c[field], 0n);
}

/** "connects 12: 9 established, 1 failed, 2 refused": refused connects are what a STRICT Service with no endpoint here counts. */
function connectsText(counters: readonly TierCounters[]): string {
  return `connects ${sum(counters, 'attempts')}: ${sum(counters, 'established')} established, ${sum(counters, 'failed')} failed, ${sum(counters, 'refused')} refused`;
}

export function mapsText(state: PinnedState, names?: MapNames): string {
  const lines = [
    `${state.pinRoot}: ${state.services.length} services, ${state.backends} backends${state.holes ? `, ${state.holes} holes` : ''}`,
  ];
  // Fail-open changes what every entry below means, so it comes first.
  lines.push(failOpenHeadline(state));
  if (!names) lines.push('(Service and node names: add --names, or a SOURCE: --state DIR, --kubeconfig/--context)');
  for (const s of state.services) {
    const vip = s.key.address.includes(':') ? `[${s.key.address}]` : s.key.address;
    const name = names?.service(s.key.address) ?? (names ? '(no such Service)' : undefined);
    const counters = state.counters.filter((c) => c.svcId === s.id);
    const open = failingOpenNow(state, serviceKeyText(s.key)) ? ' NOT rewritten now (fail-open)' : '';
    lines.push(`svc ${s.id} ${name ? `${name} ` : ''}${vip}:${s.key.port}/${s.key.protocol} ${s.mode}${open} (${connectsText(counters)})`);
    if (s.tiers.every((t) => t.length === 0)) lines.push('  no endpoint: connects are refused at once');
    s.tiers.forEach((tier, t) => {
      const here = counters.filter((c) => c.tier === t);
      if (tier.length === 0) {
        if (sum(here, 'attempts') > 0n) lines.push(`  tier ${t} (${connectsText(here)}): no endpoint`);
        return;
      }
      const backends = tier
        .map((b) => {
          const node = names?.node(b.address);
          const where = node ? `on ${node}` : `node#${b.nodeId}`;
          return `${b.address}:${b.port}${b.terminating ? ' terminating' : ''}${ejectedText(state, b.id)} ${where}`;
        })
        .join(', ');
      lines.push(`  tier ${t} (${connectsText(here)}): ${backends}`);
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
