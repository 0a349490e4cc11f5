import { describe, expect, it } from 'vitest';
import { parseAgentOptions } from '../../../cmd/agent/options.js';
import { readiness } from '../../../cmd/agent/readiness.js';
import { StartupError, startupLine } from '../../../cmd/startup-error.js';
import type { ReconcileResult } from '../../../pkg/reconciler/index.js';

function problem(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (error instanceof StartupError) return error.problem;
    throw error;
  }
  return 'none';
}

describe('nearby-agent options', () => {
  it('takes each option from a flag or its env var, the flag winning, with defaults', () => {
    const options = parseAgentOptions(['--node-name', 'w1', '--max-slots', '4096'], {
      NODE_NAME: 'ignored',
      NEARBY_CGROUP_PATH: '/sys/fs/cgroup/nearby-test/w1',
      NEARBY_PREFER_CLOSE: 'zone',
      NEARBY_STATE_DIR: '/tmp/state',
    });
    expect(options).toMatchObject({
      nodeName: 'w1',
      cgroupPath: '/sys/fs/cgroup/nearby-test/w1',
      bpffs: '/sys/fs/bpf',
      pinRoot: '/sys/fs/bpf/nearby/w1',
      sizes: { slots: 4096 },
      listen: ':9790',
      logLevel: 'info',
      preferClose: 'zone',
      stateDir: '/tmp/state',
      resyncMs: 60_000,
    });
  });

  it('gives a typed one-line error for a missing node name, a missing cgroup and bad values', () => {
    expect(problem(() => parseAgentOptions([], { NEARBY_CGROUP_PATH: '/x' }))).toBe('missing-node-name');
    expect(problem(() => parseAgentOptions(['--node-name', 'w1'], {}))).toBe('missing-cgroup');
    expect(problem(() => parseAgentOptions(['--node-name', '../etc', '--cgroup-path', '/x'], {}))).toBe('bad-option');
    expect(problem(() => parseAgentOptions(['--node-name', 'w1', '--cgroup-path', '/x', '--prefer-close', 'region'], {}))).toBe(
      'bad-option',
    );
    expect(problem(() => parseAgentOptions(['--node-name', 'w1', '--cgroup-path', '/x', '--max-services', '0'], {}))).toBe('bad-option');
    expect(problem(() => parseAgentOptions(['--bogus'], {}))).toBe('usage');
    const line = startupLine('nearby-agent', new StartupError('missing-node-name', 'first\nsecond'));
    expect(line).toBe('nearby-agent: missing-node-name: first second');
  });

  it('takes the API retry backoff from flags or env, 1 s doubling to 30 s by default', () => {
    const base = ['--node-name', 'w1', '--cgroup-path', '/x'];
    expect(parseAgentOptions(base, {})?.apiRetry).toEqual({ firstMs: 1000, maxMs: 30_000 });
    expect(parseAgentOptions(base, { NEARBY_API_RETRY_MS: '50', NEARBY_API_RETRY_MAX_MS: '400' })?.apiRetry).toEqual({
      firstMs: 50,
      maxMs: 400,
    });
    expect(parseAgentOptions([...base, '--api-retry-ms', '20'], { NEARBY_API_RETRY_MS: '50' })?.apiRetry.firstMs).toBe(20);
    expect(problem(() => parseAgentOptions([...base, '--api-retry-ms', '500', '--api-retry-max-ms', '100'], {}))).toBe('bad-option');
  });

  it('looks for the DestinationRule CRD every minute by default, or as often as --crd-check-seconds says', () => {
    const base = ['--node-name', 'w1', '--cgroup-path', '/x'];
    expect(parseAgentOptions(base, {})?.crdCheckMs).toBe(60_000);
    expect(parseAgentOptions([...base, '--crd-check-seconds', '2'], { NEARBY_CRD_CHECK_SECONDS: '5' })?.crdCheckMs).toBe(2_000);
    expect(parseAgentOptions(base, { NEARBY_CRD_CHECK_SECONDS: '5' })?.crdCheckMs).toBe(5_000);
    expect(problem(() => parseAgentOptions([...base, '--crd-check-seconds', '0'], {}))).toBe('bad-option');
  });

  it('takes the cluster domain and Istio root namespace for DestinationRules, cluster.local and istio-system by default', () => {
    const base = ['--node-name', 'w1', '--cgroup-path', '/x'];
    expect(parseAgentOptions(base, {})).toMatchObject({ clusterDomain: 'cluster.local', rootNamespace: 'istio-system' });
    expect(
      parseAgentOptions([...base, '--cluster-domain', 'corp.example'], {
        NEARBY_CLUSTER_DOMAIN: 'ignored.example',
        NEARBY_ISTIO_ROOT_NAMESPACE: 'mesh',
      }),
    ).toMatchObject({ clusterDomain: 'corp.example', rootNamespace: 'mesh' });
    expect(parseAgentOptions([...base, '--istio-root-namespace', 'mesh-root'], {})?.rootNamespace).toBe('mesh-root');
    expect(problem(() => parseAgentOptions([...base, '--cluster-domain', 'Cluster_Local'], {}))).toBe('bad-option');
    expect(problem(() => parseAgentOptions([...base, '--cluster-domain', '.local'], {}))).toBe('bad-option');
    expect(problem(() => parseAgentOptions([...base, '--istio-root-namespace', 'istio.system'], {}))).toBe('bad-option');
  });

  it('takes every Service under the proxy name nearby by default, or as --service-proxy-name and --services say', () => {
    const base = ['--node-name', 'w1', '--cgroup-path', '/x'];
    expect(parseAgentOptions(base, {})).toMatchObject({ serviceProxyName: 'nearby', services: 'all' });
    expect(
      parseAgentOptions([...base, '--services', 'with-policy'], { NEARBY_SERVICE_PROXY_NAME: 'nearby-b', NEARBY_SERVICES: 'all' }),
    ).toMatchObject({ serviceProxyName: 'nearby-b', services: 'with-policy' });
    expect(problem(() => parseAgentOptions([...base, '--services', 'some'], {}))).toBe('bad-option');
    expect(problem(() => parseAgentOptions([...base, '--service-proxy-name', 'bad name'], {}))).toBe('bad-option');
  });

  it('spills over for Services with a DestinationRule by default, or as --spillover says', () => {
    const base = ['--node-name', 'w1', '--cgroup-path', '/x'];
    expect(parseAgentOptions(base, {})?.spillover).toBe('destination-rules');
    expect(parseAgentOptions(base, { NEARBY_SPILLOVER: 'all' })?.spillover).toBe('all');
    expect(parseAgentOptions([...base, '--spillover', 'off'], { NEARBY_SPILLOVER: 'all' })?.spillover).toBe('off');
    expect(problem(() => parseAgentOptions([...base, '--spillover', 'some'], {}))).toBe('bad-option');
  });

  it('returns undefined for --help', () => {
    expect(parseAgentOptions(['--help'], {})).toBeUndefined();
  });

  it('parses --fail-open-after as off by default, a duration with its unit, and refuses the rest', () => {
    const base = { NODE_NAME: 'w1', NEARBY_CGROUP_PATH: '/x' };
    expect(parseAgentOptions([], base)?.failOpenAfterMs).toBe(0);
    expect(parseAgentOptions(['--fail-open-after', '30s'], base)?.failOpenAfterMs).toBe(30_000);
    expect(parseAgentOptions([], { ...base, NEARBY_FAIL_OPEN_AFTER: '2m' })?.failOpenAfterMs).toBe(120_000);
    expect(parseAgentOptions(['--fail-open-after', '1500ms'], base)?.failOpenAfterMs).toBe(1500);
    expect(parseAgentOptions(['--fail-open-after', 'off'], { ...base, NEARBY_FAIL_OPEN_AFTER: '10s' })?.failOpenAfterMs).toBe(0);
    for (const bad of ['30', '10 s', '-1s', 'soon', '100ms'])
      expect(
        problem(() => parseAgentOptions([`--fail-open-after=${bad}`], base)),
        bad,
      ).toBe('bad-option');
  });
});

describe('agent readiness', () => {
  const done = { completed: true, desired: 3, desiredServices: 2, failures: [], warnings: {} } as unknown as ReconcileResult;

  it('is not ready before the source syncs or before the first program, and says why', () => {
    expect(readiness('w1', undefined, undefined, undefined)).toEqual({ ready: false, reason: 'starting' });
    const unreachable = readiness(
      'w1',
      { synced: false, lastSyncMs: 0, message: 'API server unreachable: ECONNREFUSED' },
      undefined,
      undefined,
    );
    expect(unreachable.ready).toBe(false);
    expect(unreachable.reason).toContain('API server unreachable');
    expect(readiness('w1', { synced: true, lastSyncMs: 1 }, undefined, undefined).ready).toBe(false);
    expect(readiness('w1', { synced: true, lastSyncMs: 1 }, 'source did not start', done).ready).toBe(false);
  });

  it('is ready after the first full sync and program', () => {
    expect(readiness('w1', { synced: true, lastSyncMs: 1 }, undefined, done)).toEqual({
      ready: true,
      reason: '2 services intercepted (3 VIP:port entries)',
    });
    // The API server lost after the datapath was programmed: unready, and the reason says the datapath stays.
    const lost = readiness('w1', { synced: true, lastSyncMs: 1, message: 'Node watch: connect ECONNREFUSED' }, undefined, done);
    expect(lost).toEqual({ ready: false, reason: 'Node watch: connect ECONNREFUSED; connects keep the last programmed datapath' });
  });

  it('names the full map when Services are not programmed', () => {
    const failure = { code: 'map-full', service: 'sample/big', key: '10.96.0.9:80/TCP', map: 'slots', message: 'full' };
    const conflict = { code: 'vip-conflict', service: 'sample/twin', key: '10.96.0.9:81/TCP', message: 'twice' };
    const partial = { ...done, failures: [failure, failure, conflict] } as unknown as ReconcileResult;
    expect(readiness('w1', { synced: true, lastSyncMs: 1 }, undefined, partial)).toEqual({
      ready: true,
      reason:
        '2 services intercepted (3 VIP:port entries), 3 VIP:port entries of 2 services not programmed: map "slots" is full, vip-conflict (see nearby_services_failed)',
    });
  });

  it('stays not ready while this node is not among the Nodes, naming the node and the flag', () => {
    const stray = { ...done, warnings: { 'unknown-client-node': 1 } } as ReconcileResult;
    const r = readiness('w9', { synced: true, lastSyncMs: 1 }, undefined, stray);
    expect(r.ready).toBe(false);
    expect(r.reason).toMatch(/node w9 is not among the cluster's Nodes \(check --node-name\/NODE_NAME\)/);
  });
});
