// `nearbyctl maps` (text) names Services and nodes when given a SOURCE, and shows the connects
// of every service, the refused ones of a STRICT Service with no endpoint included (issue 18), and
// whether the node fails open now, which changes what every entry means.
import { describe, expect, it } from 'vitest';
import { mapsJson, mapsText, namesFrom } from '../../../cmd/ctl/maps.js';
import type { PinnedState, ProgrammedService } from '../../../pkg/datapath/index.js';
import { ep, POD, seedEndpoints, seedNodes, service, slice, snapshotOf } from '../planner/fixtures.js';

const programmed = (
  id: number,
  address: string,
  mode: ProgrammedService['mode'],
  tiers: ProgrammedService['tiers'],
): ProgrammedService => ({
  key: { address, port: 5000, protocol: 'TCP' },
  id,
  mode,
  balance: 'RANDOM',
  tiers,
  weights: [],
});

const backend = (id: number, address: string, nodeId: number) => ({ id, address, port: 5000, nodeId, terminating: false });

const counters = (svcId: number, tier: number, attempts: number, established: number, refused: number) => ({
  svcId,
  tier,
  attempts: BigInt(attempts),
  established: BigInt(established),
  failed: 0n,
  refused: BigInt(refused),
});

const state: PinnedState = {
  pinRoot: '/sys/fs/bpf/nearby/w1',
  services: [
    programmed(1, '10.96.0.100', 'FAILOVER', [[backend(1, POD.w1, 3)], [backend(2, POD.w2, 1)]]),
    programmed(2, '10.96.0.101', 'STRICT', [[]]),
  ],
  backends: 2,
  holes: 0,
  counters: [counters(1, 0, 9, 9, 0), counters(2, 0, 4, 0, 4)],
  ejected: new Map(),
};

const snapshot = snapshotOf([
  ...seedNodes(),
  service('helloworld', { trafficDistribution: 'PreferClose' }),
  slice('helloworld-abc', { service: 'helloworld', endpoints: seedEndpoints() }),
  service('local', { clusterIP: '10.96.0.101', internalTrafficPolicy: 'Local' }),
  slice('local-abc', { service: 'local', endpoints: [ep(POD.w2, 'w2')] }),
]);

describe('nearbyctl maps, as text', () => {
  it('names the Service of each entry and the node of each endpoint, given the cluster', () => {
    const text = mapsText(state, namesFrom(snapshot));
    expect(text).toContain('svc 1 sample/helloworld 10.96.0.100:5000/TCP FAILOVER (connects 9: 9 established, 0 failed, 0 refused)');
    expect(text).toContain(`tier 0 (connects 9: 9 established, 0 failed, 0 refused): ${POD.w1}:5000 on w1`);
    expect(text).toContain(`tier 1 (connects 0: 0 established, 0 failed, 0 refused): ${POD.w2}:5000 on w2`);
    expect(text).not.toContain('node#');
  });

  it('shows the refused connects of a STRICT Service with no endpoint on this node', () => {
    const text = mapsText(state, namesFrom(snapshot));
    expect(text).toContain('svc 2 sample/local 10.96.0.101:5000/TCP STRICT (connects 4: 0 established, 0 failed, 4 refused)');
    expect(text).toContain('  no endpoint: connects are refused at once');
    expect(text).toContain('  tier 0 (connects 4: 0 established, 0 failed, 4 refused): no endpoint');
  });

  it('without a SOURCE, says how to get names and still shows the counters', () => {
    const text = mapsText(state);
    expect(text).toContain('add --names, or a SOURCE');
    expect(text).toContain('svc 2 10.96.0.101:5000/TCP STRICT (connects 4: 0 established, 0 failed, 4 refused)');
    expect(text).toContain(`${POD.w1}:5000 node#3`);
  });
});

describe('nearbyctl maps and fail-open', () => {
  const failing: PinnedState = {
    ...state,
    failOpen: { afterMs: 60_000, heartbeatAgeMs: 75_000, inEffect: true },
    claimed: new Set(['10.96.0.101:5000/TCP']),
  };

  it('says first that the node fails open, and which entries are not rewritten now', () => {
    const lines = mapsText(failing).split('\n');
    expect(lines[1]).toMatch(/^fail-open: IN EFFECT: the heartbeat is 75s old, past the 60s bound/);
    expect(lines).toContain(
      'svc 1 10.96.0.100:5000/TCP FAILOVER NOT rewritten now (fail-open) (connects 9: 9 established, 0 failed, 0 refused)',
    );
    // Claimed by nearby alone: the kernel keeps rewriting it.
    expect(lines).toContain('svc 2 10.96.0.101:5000/TCP STRICT (connects 4: 0 established, 0 failed, 4 refused)');
  });

  it('says when fail-open is off or not yet due, and marks nothing', () => {
    const off = mapsText({ ...state, failOpen: { afterMs: 0, heartbeatAgeMs: undefined, inEffect: false } });
    expect(off.split('\n')[1]).toMatch(/^fail-open: off/);
    const due = mapsText({ ...failing, failOpen: { afterMs: 60_000, heartbeatAgeMs: 2_000, inEffect: false } });
    expect(due).toContain('fail-open: after 60s without a heartbeat (--fail-open-after); the heartbeat is 2s old, so not in effect');
    expect(due).not.toContain('NOT rewritten');
  });

  it('carries the same in --json', () => {
    const json = mapsJson(failing) as { failOpen: unknown; services: Array<{ vip: string; failingOpen: boolean }> };
    expect(json.failOpen).toEqual({ afterMs: 60_000, heartbeatAgeMs: 75_000, inEffect: true });
    expect(json.services.map((s) => [s.vip, s.failingOpen])).toEqual([
      ['10.96.0.100', true],
      ['10.96.0.101', false],
    ]);
  });
});
