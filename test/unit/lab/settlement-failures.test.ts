// When a lab cannot settle because a full map refused Services, the wait says so at once in one
// line (the map, the nodes, the Services it cost), `lab status` does not call such a node ready,
// and nearbyctl never prints a stack trace for it.
import { describe, expect, it } from 'vitest';
import { failureText } from '../../../cmd/ctl/failure-text.js';
import { statusText } from '../../../lab/cli/lab-print.js';
import { LabError, isLabError } from '../../../lab/errors.js';
import type { LabStatus, NodeStatus, Settlement } from '../../../lab/status.js';
import { STUCK_MS, stuckNodes, waitUntilSettled } from '../../../lab/waiting.js';

const REFUSED =
  '203 services intercepted (212 VIP:port entries), 9 VIP:port entries of 2 services not programmed: map "backends" is full (see nearby_services_failed)';
const SIZES = '--max-backends 16384';
const agent = (reason: string, ready = true) => ({ ready, reason, restarts: 0 });

describe('a settlement a full map stops', () => {
  it('names the nodes, the Services it cost and the agent reason with the full map, grouped by cause', () => {
    const lines = stuckNodes(
      [
        { node: 'w1', agent: agent(REFUSED), notProgrammed: ['sample/big', 'sample/other'] },
        { node: 'w2', agent: agent(REFUSED), notProgrammed: ['sample/big', 'sample/other'] },
        // Still catching up (the agent has not said it refused anything): not stuck.
        { node: 'w3', agent: agent('203 services intercepted (212 VIP:port entries)'), notProgrammed: ['sample/big'] },
        { node: 'w4', agent: agent(REFUSED), notProgrammed: [] },
      ],
      SIZES,
    );
    expect(lines).toEqual([
      'nodes w1, w2: 2 planned Services not programmed (sample/big, sample/other); ' +
        `agent: ${REFUSED}; the lab's agents run with ${SIZES} (docs/nearbyctl.md, "Map sizes")`,
    ]);
  });

  it('stops a wait after a short grace, long before its deadline, with one line', async () => {
    const stuck = stuckNodes([{ node: 'w1', agent: agent(REFUSED), notProgrammed: ['sample/big'] }], SIZES);
    const settlement = (): Promise<Settlement> =>
      Promise.resolve({ done: false, waiting: ['datapath of w1 ' + 'x'.repeat(5000)], problems: [], stuck });
    const started = Date.now();
    const error = await waitUntilSettled(settlement, 60_000, 50).catch((e: unknown) => e);
    expect(isLabError(error)).toBe(true);
    expect(Date.now() - started).toBeLessThan(STUCK_MS + 2_000);
    const message = (error as LabError).message;
    expect(message).toBe(`the lab cannot settle: ${stuck[0]}`);
    expect(message).toContain('map "backends" is full');
    expect(message).not.toContain('\n');
  });

  it('keeps a timeout message short whatever is pending', async () => {
    const waiting = Array.from({ length: 40 }, (_, i) => `datapath of w${i} not yet as planned: ${'{"tiers":[]}'.repeat(100)}`);
    const error = (await waitUntilSettled(() => Promise.resolve({ done: false, waiting, problems: [] }), 1, 1).catch(
      (e: unknown) => e,
    )) as LabError;
    expect(error.code).toBe('timeout');
    expect(error.message.length).toBeLessThan(1_000);
    expect(error.message).toMatch(/and 37 more$/);
  });
});

describe('nearbyctl prints an expected failure in one line', () => {
  it('a LabError, even from another copy of the lab module', () => {
    expect(failureText(new LabError('timeout', 'still waiting'))).toBe('nearbyctl: still waiting');
    const foreign = Object.assign(new Error('the lab cannot settle: x'), { name: 'LabError', code: 'invalid' });
    expect(isLabError(foreign)).toBe(true);
    expect(failureText(foreign)).toBe('nearbyctl: the lab cannot settle: x');
    expect(failureText(new TypeError('bug'))).toMatch(/^nearbyctl: unexpected error: TypeError: bug\n\s+at /);
  });
});

describe('lab status', () => {
  const node = (name: string, notProgrammed: string[]): NodeStatus => ({
    name,
    role: 'worker',
    labels: {},
    locality: null,
    podCidr: '10.244.1.0/24',
    cgroup: '/c',
    pinRoot: '/p',
    agent: { ...agent(notProgrammed.length > 0 ? REFUSED : '3 services intercepted (3 VIP:port entries)'), pid: 7 },
    notProgrammed,
  });
  const status = (nodes: NodeStatus[]): LabStatus => ({
    name: 'lab',
    stateDir: '/s',
    createdAt: new Date().toISOString(),
    supervisorPid: 1,
    nodes,
    pods: [],
    services: [],
  });

  it('shows planned Services that are not programmed per node, and does not call that node ready', () => {
    const text = statusText(status([node('w1', []), node('w2', ['sample/a', 'sample/b', 'sample/c', 'sample/d'])]));
    const [w1, w2] = text.split('\n').filter((l) => /^w\d/.test(l));
    expect(w1).toMatch(/\bready pid 7$/);
    expect(w2).not.toMatch(/\bready pid/);
    expect(w2).toContain('NOT PROGRAMMED: 4 planned Services (sample/a, sample/b, sample/c and 1 more); agent: ' + REFUSED);
  });
});
