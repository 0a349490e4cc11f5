// `nearbyctl explain`'s comparison of a plan with a node's pins, on hand-made pinned states: the
// kernel side is covered by test/kernel/agent-file-source.test.ts.
import { describe, expect, it } from 'vitest';
import { compareWithPins } from '../../../cmd/ctl/pinned-check.js';
import type { PinnedState, ProgrammedService } from '../../../pkg/datapath/index.js';
import { plan } from '../../../pkg/planner/index.js';
import { ep, POD, SEED_VIP, seedNodes, service, slice, snapshotOf } from '../planner/fixtures.js';

const LABEL = 'service.kubernetes.io/service-proxy-name';

function state(services: ProgrammedService[]): PinnedState {
  return { pinRoot: '/sys/fs/bpf/nearby/w1', services, backends: 0, holes: 0, counters: [], ejected: new Map() };
}

function programmed(tiers: Array<Array<{ address: string; port: number }>>, mode: ProgrammedService['mode'] = 'RANDOM'): ProgrammedService {
  return {
    key: { address: SEED_VIP, port: 5000, protocol: 'TCP' },
    id: 1,
    mode,
    balance: 'RANDOM',
    weights: [],
    tiers: tiers.map((tier) => tier.map((b, i) => ({ ...b, id: i + 1, nodeId: 7, terminating: false }))),
  };
}

function planned(labels?: Record<string, string>) {
  const snapshot = snapshotOf([
    ...seedNodes(),
    service('helloworld', labels ? { labels } : {}),
    slice('hw-1', { service: 'helloworld', endpoints: [ep(POD.w1, 'w1'), ep(POD.w2, 'w2')] }),
  ]);
  return { snapshot, planned: plan(snapshot, 'w1').services.find((s) => s.service === 'sample/helloworld') };
}

describe('compareWithPins', () => {
  it('matches what is programmed as planned, whatever the node ids', () => {
    const { snapshot, planned: p } = planned();
    const pins = state([
      programmed([
        [
          { address: POD.w1, port: 5000 },
          { address: POD.w2, port: 5000 },
        ],
      ]),
    ]);
    const result = compareWithPins(snapshot.services.get('sample/helloworld'), p, pins);
    expect(result.matches).toBe(true);
    expect(result.lines).toContain(`  ${SEED_VIP}:5000/TCP: programmed as planned (RANDOM, tier sizes [2])`);
  });

  it('names an entry programmed differently, or not at all', () => {
    const { snapshot, planned: p } = planned();
    const differs = compareWithPins(
      snapshot.services.get('sample/helloworld'),
      p,
      state([programmed([[{ address: POD.w1, port: 5000 }]])]),
    );
    expect(differs.matches).toBe(false);
    expect(differs.lines.join('\n')).toContain('DIFFERS from the plan: programmed RANDOM, tier sizes [1]; planned RANDOM, tier sizes [2]');
    const missing = compareWithPins(snapshot.services.get('sample/helloworld'), p, state([]));
    expect(missing.matches).toBe(false);
    expect(missing.lines.join('\n')).toContain(`${SEED_VIP}:5000/TCP: NOT programmed`);
    // Which Service loses when a map is full is a deliberate rule, and explain says it.
    expect(missing.lines.join('\n')).toContain('Services already programmed keep their entries and new ones wait');
    expect(differs.lines.join('\n')).not.toContain('keep their entries');
  });

  it('names a Service still programmed though the plan leaves it to another proxy', () => {
    const { snapshot, planned: p } = planned({ [LABEL]: 'cilium' });
    expect(p).toBeUndefined();
    const service = snapshot.services.get('sample/helloworld');
    const still = compareWithPins(service, p, state([programmed([[{ address: POD.w1, port: 5000 }]])]));
    expect(still.matches).toBe(false);
    expect(still.lines.join('\n')).toContain('still programmed (RANDOM), though the plan leaves the Service alone');
    const gone = compareWithPins(service, p, state([]));
    expect(gone.matches).toBe(true);
    expect(gone.lines).toContain('  nothing programmed for it, as planned');
  });
});
