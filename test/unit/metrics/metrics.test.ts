import { afterEach, describe, expect, it } from 'vitest';
import { AgentMetrics, parseListen, startHealthServer, type HealthServer } from '../../../pkg/metrics/index.js';
import type { ReconcileResult } from '../../../pkg/reconciler/index.js';

const servers: HealthServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

function result(overrides: Partial<ReconcileResult> = {}): ReconcileResult {
  return {
    completed: true,
    trigger: 'start',
    full: true,
    replanned: 2,
    finishedAtMs: 1_700_000_000_000,
    durationMs: 12,
    desired: 2,
    desiredServices: 2,
    applied: 2,
    removed: 0,
    unchanged: 0,
    failures: [{ service: 'sample/big', key: '10.96.0.9:80/TCP', code: 'map-full', map: 'slots', message: 'full' }],
    servicesByMode: { FAILOVER: 1, RANDOM: 1 },
    endpointsByModeTier: { FAILOVER: [1, 1, 1], RANDOM: [3] },
    rejected: { 'bad-ip': 2 },
    warnings: { 'unknown-policy': 1 },
    mapWrites: { services: 2, slots: 6, backends: 3 },
    mapErrors: { slots: 1 },
    driftRepaired: { slots: 2 },
    ...overrides,
  };
}

async function get(server: HealthServer, path: string): Promise<{ status: number; body: string }> {
  const response = await fetch(`http://127.0.0.1:${server.port}${path}`);
  return { status: response.status, body: await response.text() };
}

describe('metrics server', () => {
  it('exposes every metric the issue asks for, with values from a reconcile and the datapath', async () => {
    const metrics = new AgentMetrics({ defaultMetrics: false });
    metrics.recordReconcile(result());
    metrics.recordSourceStats({ watchRestarts: 2, relists: 1 });
    metrics.recordSourceStats({ watchRestarts: 3 });
    metrics.setConnectCounters(() => [
      { service: 'sample/helloworld', tier: 0, attempts: 30n, failed: 0n, refused: 0n },
      { service: 'sample/helloworld', tier: 1, attempts: 10n, failed: 1n, refused: 0n },
    ]);
    const server = await startHealthServer({
      listen: '127.0.0.1:0',
      registry: metrics.registry,
      readiness: () => ({ ready: true, reason: 'ok' }),
    });
    servers.push(server);
    const { status, body } = await get(server, '/metrics');
    expect(status).toBe(200);
    for (const name of [
      'nearby_services_programmed',
      'nearby_endpoints_programmed',
      'nearby_reconcile_duration_seconds_bucket',
      'nearby_map_writes_total',
      'nearby_map_write_errors_total',
      'nearby_watch_restarts_total',
      'nearby_watch_relists_total',
      'nearby_objects_rejected',
      'nearby_last_sync_timestamp_seconds',
      'nearby_connects_total',
      'nearby_connects_tier0_ratio',
    ]) {
      expect(body, name).toContain(name);
    }
    expect(body).toContain('nearby_services_programmed{mode="FAILOVER"} 1');
    expect(body).toContain('nearby_endpoints_programmed{mode="RANDOM",tier="0"} 3');
    expect(body).toContain('nearby_map_writes_total{map="slots"} 6');
    expect(body).toContain('nearby_map_write_errors_total{map="slots"} 1');
    expect(body).toContain('nearby_drift_repaired_total{map="slots"} 2');
    expect(body).toContain('nearby_objects_rejected{reason="bad-ip"} 2');
    expect(body).toContain('nearby_watch_restarts_total 3');
    expect(body).toContain('nearby_watch_relists_total 1');
    expect(body).toContain('nearby_last_sync_timestamp_seconds 1700000000');
    expect(body).toContain('nearby_connects_total{service="sample/helloworld",tier="1"} 10');
    expect(body).toContain('nearby_connects_tier0_ratio{service="sample/helloworld"} 0.75');
  });

  it('is live at once, and ready only once the caller says so, with the reason in the body', async () => {
    let synced = false;
    const server = await startHealthServer({
      listen: '127.0.0.1:0',
      registry: new AgentMetrics({ defaultMetrics: false }).registry,
      readiness: () => (synced ? { ready: true, reason: 'programmed 3 services' } : { ready: false, reason: 'waiting for the first sync' }),
    });
    servers.push(server);
    expect((await get(server, '/healthz')).status).toBe(200);
    const before = await get(server, '/readyz');
    expect(before.status).toBe(503);
    expect(before.body).toContain('waiting for the first sync');
    synced = true;
    expect((await get(server, '/readyz')).status).toBe(200);
    expect((await get(server, '/nope')).status).toBe(404);
  });

  it('parses listen addresses as the flag takes them', () => {
    expect(parseListen(':9790')).toEqual({ port: 9790 });
    expect(parseListen('9790')).toEqual({ port: 9790 });
    expect(parseListen('0.0.0.0:80')).toEqual({ host: '0.0.0.0', port: 80 });
    expect(parseListen('[::1]:0')).toEqual({ host: '::1', port: 0 });
    expect(() => parseListen('nowhere')).toThrow(/listen address/);
  });
});

describe('outlier detection metrics', () => {
  it('mirror the kernel ejection counts per service at scrape time', async () => {
    const metrics = new AgentMetrics({ defaultMetrics: false });
    let now = 1;
    metrics.setEjectionCounts(() => [{ service: 'sample/helloworld', ejections: 3, ejectedNow: now }]);
    const text = await metrics.registry.metrics();
    expect(text).toContain('nearby_ejections_total{service="sample/helloworld"} 3');
    expect(text).toContain('nearby_endpoints_ejected{service="sample/helloworld"} 1');
    now = 0;
    expect(await metrics.registry.metrics()).toContain('nearby_endpoints_ejected{service="sample/helloworld"} 0');
  });
});

describe('fail-open metrics', () => {
  const lines = async (metrics: AgentMetrics): Promise<string[]> =>
    (await metrics.registry.metrics())
      .split('\n')
      .filter((l) => /^nearby_(fail_open_after_seconds|heartbeat_age_seconds|failing_open) /.test(l));

  it('mirror the control row at scrape time: the bound, the heartbeat age, and whether it is in effect', async () => {
    const metrics = new AgentMetrics({ defaultMetrics: false });
    let reading = { afterMs: 3000, heartbeatAgeMs: 750 as number | undefined, inEffect: false };
    metrics.setFailOpen(() => reading);
    expect(await lines(metrics)).toEqual([
      'nearby_fail_open_after_seconds 3',
      'nearby_heartbeat_age_seconds 0.75',
      'nearby_failing_open 0',
    ]);
    reading = { afterMs: 3000, heartbeatAgeMs: 4200, inEffect: true };
    expect(await lines(metrics)).toEqual(['nearby_fail_open_after_seconds 3', 'nearby_heartbeat_age_seconds 4.2', 'nearby_failing_open 1']);
  });

  it('report 0 while fail-open is off (its heartbeat is never renewed, so its age means nothing), and when the row cannot be read', async () => {
    const metrics = new AgentMetrics({ defaultMetrics: false });
    metrics.setFailOpen(() => ({ afterMs: 0, heartbeatAgeMs: 86_400_000, inEffect: false }));
    expect(await lines(metrics)).toEqual(['nearby_fail_open_after_seconds 0', 'nearby_heartbeat_age_seconds 0', 'nearby_failing_open 0']);
    metrics.setFailOpen(() => {
      throw new Error('map gone');
    });
    expect(await lines(metrics)).toEqual(['nearby_fail_open_after_seconds 0', 'nearby_heartbeat_age_seconds 0', 'nearby_failing_open 0']);
  });
});

describe('map write error counters', () => {
  it('start at 0 for every map named, so increase() sees the first failure', async () => {
    const metrics = new AgentMetrics({ defaultMetrics: false, maps: ['services', 'slots'] });
    const before = await metrics.registry.metrics();
    expect(before).toContain('nearby_map_write_errors_total{map="services"} 0');
    expect(before).toContain('nearby_map_write_errors_total{map="slots"} 0');
    expect(before).toContain('nearby_map_write_errors_total{map="none"} 0');
    metrics.recordReconcile(result());
    expect(await metrics.registry.metrics()).toContain('nearby_map_write_errors_total{map="slots"} 1');
  });
});
