// `nearbyctl explain`'s fail-open lines, on hand-made pinned states: the reading of a real node's
// control row is covered by test/kernel/fail-open-agent.test.ts.
import { describe, expect, it } from 'vitest';
import { failOpenLines } from '../../../cmd/ctl/fail-open-view.js';
import type { FailOpenStatus, PinnedState, ProgrammedService } from '../../../pkg/datapath/index.js';
import { SEED_VIP, service, snapshotOf } from '../planner/fixtures.js';

const helloworld = snapshotOf([service('helloworld')]).services.get('sample/helloworld');

function programmed(port: number): ProgrammedService {
  return { key: { address: SEED_VIP, port, protocol: 'TCP' }, id: port, mode: 'RANDOM', balance: 'RANDOM', weights: [], tiers: [[]] };
}

function state(failOpen: FailOpenStatus | undefined, claimed: string[] = []): PinnedState {
  return {
    pinRoot: '/sys/fs/bpf/nearby/w1',
    services: [programmed(5000), programmed(5001), { ...programmed(80), key: { address: '10.96.9.9', port: 80, protocol: 'TCP' } }],
    backends: 0,
    holes: 0,
    counters: [],
    ejected: new Map(),
    ...(failOpen ? { failOpen } : {}),
    claimed: new Set(claimed),
  };
}

describe('failOpenLines', () => {
  it('says fail-open is off, with no heartbeat age, when the agent runs without a bound', () => {
    expect(failOpenLines(helloworld, state({ afterMs: 0, heartbeatAgeMs: 90_000, inEffect: false }))).toEqual([
      'fail-open: off (the agent runs without --fail-open-after), so connects stay rewritten however long the agent is gone',
    ]);
  });

  it('gives the bound and the heartbeat age, and which of the Service ports would fail open, while it is not in effect', () => {
    const lines = failOpenLines(helloworld, state({ afterMs: 3000, heartbeatAgeMs: 412, inEffect: false }, [`${SEED_VIP}:5001/TCP`]));
    expect(lines).toEqual([
      'fail-open: after 3s without a heartbeat (--fail-open-after); the heartbeat is 0.4s old, so not in effect',
      `  ${SEED_VIP}:5000/TCP: fails open once the heartbeat is older than the bound`,
      `  ${SEED_VIP}:5001/TCP: claimed by nearby alone (its own service-proxy-name), so never failed open`,
    ]);
  });

  it('says IN EFFECT, and which ports are not rewritten now, once the heartbeat is past the bound', () => {
    const lines = failOpenLines(helloworld, state({ afterMs: 60_000, heartbeatAgeMs: 75_300, inEffect: true }, [`${SEED_VIP}:5001/TCP`]));
    expect(lines[0]).toMatch(/^fail-open: IN EFFECT: the heartbeat is 75s old, past the 60s bound \(the agent is gone or stuck\)/);
    expect(lines.slice(1)).toEqual([
      `  ${SEED_VIP}:5000/TCP: NOT rewritten now`,
      `  ${SEED_VIP}:5001/TCP: claimed by nearby alone (its own service-proxy-name), so never failed open`,
    ]);
  });

  it('says so when the pins predate fail-open', () => {
    expect(failOpenLines(helloworld, state(undefined))[0]).toMatch(/^fail-open: not available \(the pins predate it: no control map\)/);
  });
});
