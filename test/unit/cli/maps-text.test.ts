// `nearbyctl maps` (text) names Services and nodes when given a SOURCE, and shows the connects
// of every service, the refused ones of a STRICT Service with no endpoint included (issue 18).
import { describe, expect, it } from 'vitest';
import { mapsText, namesFrom } from '../../../cmd/ctl/maps.js';
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
