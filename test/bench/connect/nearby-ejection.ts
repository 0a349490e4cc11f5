/*
 * nearby with ejection state present (docs/outlier-detection.md): a second real agent, fed the
 * same FileSource layout as `nearby` but with every Service carrying the outlier-detection
 * annotation, so each has a row in the outlier map. Before the rounds the kernel itself ejects
 * the measured Service's whole closest tier and the first endpoint of the next (an nft rule in the
 * lab's namespace resets their SYNs for a short warm-up; sock_ops counts the refused connects and
 * ejects; the rule is then removed). The ejection lasts an hour, so every measured connect runs
 * the ejection scan: tier 0 all ejected, on to tier 1, skipping its ejected endpoint. Nothing is
 * written into the maps from here; the backend_health and svc_ejections rows are the kernel's.
 * After the rounds a counted pass (nft counters on SYNs, per endpoint address) checks that the
 * connects reached only live endpoints and that the ejections were still in force.
 */
import { execFileSync } from 'node:child_process';
import { type ProgrammedService, readPinnedState } from '../../../pkg/datapath/index.js';
import { OUTLIER_ANNOTATION } from '../../../pkg/planner/index.js';
import type { ConnectLab } from './connect-lab.js';
import { type Layout, measuredEndpoints, SERVICE_PORT, serviceVip, TARGET_PORT } from './manifests.js';
import { nearbySystem } from './nearby.js';
import type { ConnectSystem, Target } from './system.js';

/**
 * Istio's default threshold (5), not 1: on a loaded machine a live endpoint's SYN now and then
 * waits past its first retransmission timeout, which counts as a failure; with 1 that alone
 * ejects it. An hour outlasts any run; 50% leaves room for the three ejections of 10 endpoints.
 */
const OUTLIER = { consecutive5xxErrors: 5, interval: '10s', baseEjectionTime: '1h', maxEjectionPercent: 50 };
/** manifests.ts puts endpoints 0-1 on the measured node (tier 0) and 2-4 in its zone (tier 1). */
const EJECTED_INDEXES = [0, 1, 2];
const NFT_TABLE = 'nearby_bench_ejection';
const WARMUP_ATTEMPTS = 20;
const VERIFY_CONNECTS = 5000;

/** Runs an nft script in the lab's namespace. */
function nft(netns: string, script: string): string {
  return execFileSync('ip', ['netns', 'exec', netns, 'nft', '-f', '-'], { input: script, encoding: 'utf8' });
}

function measuredService(pinRoot: string, layout: Layout): ProgrammedService {
  const vip = serviceVip(0);
  const service = readPinnedState(pinRoot).services.find((s) => s.key.address === vip && s.key.port === SERVICE_PORT);
  if (!service) throw new Error(`nearby_ejection: service ${vip}:${SERVICE_PORT} is not in the maps`);
  if (!service.outlier) throw new Error('nearby_ejection: the measured service has no outlier row');
  if (service.tiers.flat().length !== layout.perService) throw new Error('nearby_ejection: the measured service is not fully programmed');
  return service;
}

/** Backend id of each measured endpoint address. */
function backendIds(service: ProgrammedService): Map<string, number> {
  return new Map(service.tiers.flat().map((b) => [b.address, b.id]));
}

interface EjectedNow {
  readonly addresses: string[];
  /** Milliseconds left, by ejected address. */
  readonly remainingMs: Record<string, number>;
  readonly minRemainingMs: number;
}

/** Which of `ids` are ejected now, read from the kernel's backend_health through the datapath's reader. */
function ejectedNow(pinRoot: string, ids: ReadonlyMap<string, number>): EjectedNow {
  const ejected = readPinnedState(pinRoot).ejected;
  const remainingMs: Record<string, number> = {};
  for (const [address, id] of ids) {
    const e = ejected.get(id);
    if (e) remainingMs[address] = e.remainingMs;
  }
  const addresses = Object.keys(remainingMs);
  return { addresses, remainingMs, minRemainingMs: addresses.length > 0 ? Math.min(...Object.values(remainingMs)) : 0 };
}

/** SYNs (retransmissions included) sent to each measured endpoint while `run` runs, counted by nft in the lab's namespace. */
async function countSyns(netns: string, addresses: readonly string[], run: () => Promise<unknown>): Promise<Record<string, number>> {
  const rules = addresses.map((a) => `    ip daddr ${a} tcp dport ${TARGET_PORT} tcp flags & (syn | ack) == syn counter comment "${a}"`);
  nft(netns, `table ip ${NFT_TABLE} {\n  chain out {\n    type filter hook output priority 0;\n${rules.join('\n')}\n  }\n}\n`);
  try {
    await run();
    const listed = JSON.parse(
      execFileSync('ip', ['netns', 'exec', netns, 'nft', '-j', 'list', 'table', 'ip', NFT_TABLE], { encoding: 'utf8' }),
    ) as {
      nftables: Array<{ rule?: { comment?: string; expr: Array<{ counter?: { packets: number } }> } }>;
    };
    const counts: Record<string, number> = Object.fromEntries(addresses.map((a) => [a, 0]));
    for (const item of listed.nftables) {
      const rule = item.rule;
      if (!rule?.comment) continue;
      counts[rule.comment] = rule.expr.find((e) => e.counter)?.counter?.packets ?? 0;
    }
    return counts;
  } finally {
    nft(netns, `delete table ip ${NFT_TABLE}\n`);
  }
}

export function nearbyEjectionSystem(layout: Layout, programTimeoutMs: number): ConnectSystem {
  const inner = nearbySystem(
    layout,
    programTimeoutMs,
    { kind: 'file', annotations: { [OUTLIER_ANNOTATION]: JSON.stringify(OUTLIER) } },
    { name: 'nearby_ejection', node: 'ejection', agentNode: 'ejection-agent' },
  );
  const endpoints = measuredEndpoints(layout);
  const toEject = EJECTED_INDEXES.map((i) => endpoints[i]!);
  let lab: ConnectLab | undefined;
  let target: Target | undefined;
  let ids = new Map<string, number>();
  const extras: Record<string, number> = {};

  /** The kernel ejects `toEject`: their SYNs are reset until sock_ops has ejected every one. */
  async function eject(theLab: ConnectLab, theTarget: Target): Promise<void> {
    const refuse = `ip daddr { ${toEject.join(', ')} } tcp dport ${TARGET_PORT} reject with tcp reset`;
    nft(theLab.netns, `table ip ${NFT_TABLE} {\n  chain in {\n    type filter hook input priority 0;\n    ${refuse}\n  }\n}\n`);
    const started = performance.now();
    try {
      for (let attempt = 1; ; attempt++) {
        const warm = await theLab.connect(theTarget, 200, 2);
        extras.nearby_ejection_warmup_failed_connects = (extras.nearby_ejection_warmup_failed_connects ?? 0) + warm.failures;
        const now = ejectedNow(inner.pinRoot(), ids);
        if (toEject.every((a) => now.addresses.includes(a))) break;
        if (attempt >= WARMUP_ATTEMPTS)
          throw new Error(`nearby_ejection: the kernel ejected only ${now.addresses.join(', ') || 'none'} of ${toEject.join(', ')}`);
      }
    } finally {
      nft(theLab.netns, `delete table ip ${NFT_TABLE}\n`);
    }
    extras.nearby_ejection_warmup_ms = Math.round(performance.now() - started);
  }

  return {
    name: inner.name,
    async setup(theLab: ConnectLab): Promise<Target> {
      lab = theLab;
      target = await inner.setup(theLab);
      ids = backendIds(measuredService(inner.pinRoot(), layout));
      await eject(theLab, target);
      const now = ejectedNow(inner.pinRoot(), ids);
      extras.nearby_ejection_ejected_before = now.addresses.length;
      return target;
    },
    loaded: () => inner.loaded(),
    async extras() {
      if (!lab || !target) return { ...(await inner.extras()), ...extras };
      const theLab = lab;
      const theTarget = target;
      // Still in force after the rounds, so every measured connect had the state present.
      const after = ejectedNow(inner.pinRoot(), ids);
      if (!toEject.every((a) => after.addresses.includes(a)))
        throw new Error(`nearby_ejection: after the rounds only ${after.addresses.join(', ') || 'none'} were still ejected`);
      const answers = await countSyns(theLab.netns, endpoints, () => theLab.connect(theTarget, VERIFY_CONNECTS, 10));
      const toEjected = toEject.reduce((n, a) => n + answers[a]!, 0);
      const total = Object.values(answers).reduce((n, c) => n + c, 0);
      if (toEjected > 0) throw new Error(`nearby_ejection: ${toEjected} of ${total} connects reached an ejected endpoint`);
      if (total === 0) throw new Error('nearby_ejection: the counted pass made no connect');
      return {
        ...(await inner.extras()),
        ...extras,
        nearby_ejection_ejected_after: after.addresses.length,
        nearby_ejection_min_remaining_ms: after.minRemainingMs,
        nearby_ejection_verify_syns: total,
        nearby_ejection_verify_syns_to_ejected: toEjected,
        nearby_ejection_remaining_ms: after.remainingMs,
        nearby_ejection_answers: answers,
      };
    },
    teardown: () => inner.teardown(),
  };
}
