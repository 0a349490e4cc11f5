// /readyz and `nearbyctl plan` count the same things with the same words (issue 18): a Service
// with two ports is one Service intercepted and two VIP:port entries, in both.
import { afterEach, describe, expect, it } from 'vitest';
import { readiness } from '../../../cmd/agent/readiness.js';
import { planText } from '../../../cmd/ctl/plan-view.js';
import { plan } from '../../../pkg/planner/index.js';
import { Reconciler } from '../../../pkg/reconciler/index.js';
import { ep, POD, seedEndpoints, seedNodes, service, slice, snapshotOf } from '../planner/fixtures.js';
import { FakeSource, RecordingWriter, silent } from './fakes.js';

const PORTS = [
  { name: 'http', port: 5000, protocol: 'TCP' },
  { name: 'admin', port: 5001, protocol: 'TCP' },
];

const objects = [
  ...seedNodes(),
  service('helloworld', { trafficDistribution: 'PreferClose', ports: PORTS }),
  slice('helloworld-abc', { service: 'helloworld', ports: PORTS, endpoints: seedEndpoints() }),
  service('other', { clusterIP: '10.96.0.101' }),
  slice('other-abc', { service: 'other', endpoints: [ep(POD.w2, 'w2')] }),
  // Not intercepted: counted as skipped by plan, in neither number.
  service('headless', { clusterIP: 'None' }),
];

const running: Reconciler[] = [];
afterEach(() => {
  for (const r of running.splice(0)) r.stop();
});

describe('one vocabulary for /readyz and nearbyctl plan', () => {
  it('counts Services as Services and VIP:port entries as entries, in the same words', async () => {
    const reconciler = new Reconciler(
      { source: new FakeSource(objects), writer: new RecordingWriter(), nodeName: 'w1', debounceMs: 5, resyncMs: 0 },
      silent,
    );
    running.push(reconciler);
    const result = await reconciler.reconcileNow('test');
    const ready = readiness('w1', { synced: true, lastSyncMs: 1 }, undefined, result);
    const planned = planText(plan(snapshotOf(objects), 'w1')).split('\n')[0];

    const words = '2 services intercepted (3 VIP:port entries)';
    expect(ready).toEqual({ ready: true, reason: words });
    expect(planned).toBe(`node w1: ${words}, 1 skipped`);
  });
});
