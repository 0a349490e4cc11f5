// Metrics labels, log reasons and readiness come from typed codes, never from the wording of a
// message. The same cluster, with every problem in it, is reconciled twice: once as it is, once
// with every message the model, the planner and the writer produce reworded on the way out.
// Everything a dashboard, an alert or a readiness probe sees must come out the same.
import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BROKEN_SETTINGS, destinationRule, localityRule } from '../planner/dr-fixtures.js';
import { readiness } from '../../../cmd/agent/readiness.js';
import { BpfCallError, InvalidServiceError, MapFullError } from '../../../pkg/datapath/errors.js';
import type { BulkResult } from '../../../pkg/datapath/writer.js';
import type { ProgrammedService, ServiceSpec } from '../../../pkg/datapath/types.js';
import { serviceKeyText } from '../../../pkg/datapath/index.js';
import { AgentMetrics } from '../../../pkg/metrics/index.js';
import type * as Model from '../../../pkg/model/index.js';
import { inCluster, REJECTION_CODES } from '../../../pkg/model/index.js';
import type * as Planner from '../../../pkg/planner/index.js';
import { WARNING_CODES, type Warning } from '../../../pkg/planner/index.js';
import { countCodes, Reconciler, SERVICE_FAILURE_CODES, type ReconcileResult } from '../../../pkg/reconciler/index.js';
import { ep, node, POD, SEED_VIP, seedEndpoints, service, slice } from '../planner/fixtures.js';
import { FakeSource, RecordingWriter } from './fakes.js';

const rewording = vi.hoisted(() => {
  const state = { on: false };
  const reword = (message: string): string => (state.on ? `REWORDED ${Array.from(message).reverse().join('')}` : message);
  return { state, reword };
});

vi.mock('../../../pkg/model/index.js', async (importOriginal) => {
  const model = await importOriginal<typeof Model>();
  class RewordingStore extends model.SnapshotStore {
    override rejected(): ReturnType<InstanceType<typeof model.SnapshotStore>['rejected']> {
      return super.rejected().map((r) => ({ ...r, message: rewording.reword(r.message) }));
    }
  }
  return { ...model, SnapshotStore: RewordingStore };
});

vi.mock('../../../pkg/planner/index.js', async (importOriginal) => {
  const planner = await importOriginal<typeof Planner>();
  const rewordAll = (warnings: readonly Warning[]): Warning[] => warnings.map((w) => ({ ...w, message: rewording.reword(w.message) }));
  return {
    ...planner,
    nodeWarnings: (...args: Parameters<typeof planner.nodeWarnings>) => rewordAll(planner.nodeWarnings(...args)),
    planOne: (...args: Parameters<typeof planner.planOne>) => {
      const plan = planner.planOne(...args);
      return { ...plan, warnings: rewordAll(plan.warnings) };
    },
  };
});

/** Refuses the writes of chosen keys with the datapath's own errors, worded per the switch. */
class RefusingWriter extends RecordingWriter {
  constructor(private readonly refusals: ReadonlyMap<string, (label: string) => Error>) {
    super();
  }

  override apply(spec: ServiceSpec): ProgrammedService {
    const error = this.refusal(spec);
    if (error) throw error;
    return super.apply(spec);
  }

  override applyMany(specs: readonly ServiceSpec[]): BulkResult {
    const refused = specs.flatMap((spec) => {
      const error = this.refusal(spec);
      return error ? [{ spec, error }] : [];
    });
    const result = super.applyMany(specs.filter((spec) => !refused.some((r) => r.spec === spec)));
    return { applied: result.applied, appliedKeys: result.appliedKeys, failed: [...result.failed, ...refused] };
  }

  private refusal(spec: ServiceSpec): Error | undefined {
    const error = this.refusals.get(serviceKeyText(spec.key))?.(spec.label);
    if (error) error.message = rewording.reword(error.message);
    return error;
  }
}

const refusals = new Map<string, (label: string) => Error>([
  ['10.96.0.110:5000/TCP', (label) => new MapFullError('slots', label, 4)],
  ['10.96.0.111:5000/TCP', (label) => new InvalidServiceError(label, 'tier 0 has 70000 endpoints')],
  ['10.96.0.112:5000/TCP', () => new BpfCallError('bpf_map_update_elem', -16, 'services')],
  ['10.96.0.113:5000/TCP', () => new Error('something nobody expected')],
]);

/** Node w1 (this agent's) is missing, so its own endpoints name an unknown node too. */
function clusterWithEveryProblem(): unknown[] {
  return [
    node('w2', { region: 'r', zone: 'z1', subzone: 's2' }),
    node('w3', { region: 'r', zone: 'z2', subzone: 's3' }),
    service('helloworld', { trafficDistribution: 'PreferClose' }),
    slice('helloworld-abc', { service: 'helloworld', endpoints: seedEndpoints() }),
    // Warnings.
    service('odd', { clusterIP: '10.96.0.103', trafficDistribution: 'PreferNowhere' }),
    service('sig', {
      clusterIP: '10.96.0.104',
      ports: [
        { name: 'sig', port: 3868, protocol: 'SCTP' },
        { name: 'http', port: 5000 },
      ],
    }),
    service('mismatch', { clusterIP: '10.96.0.105' }),
    slice('mismatch-abc', { service: 'mismatch', ports: [{ name: 'other', port: 1 }], endpoints: [ep(POD.w2, 'w2')] }),
    service('unset', { clusterIP: '10.96.0.106' }),
    slice('unset-abc', { service: 'unset', ports: [{ name: 'http' }], endpoints: [ep(POD.w2, 'w2')] }),
    inCluster('c2', [node('far', { network: 'net2' }), slice('hw-far', { service: 'helloworld', endpoints: [ep('10.250.0.1', 'far')] })]),
    destinationRule('client-side', { host: 'helloworld.sample.svc.cluster.local' }, { namespace: 'sleep' }),
    destinationRule('l4-only', { host: 'mismatch', subsets: [{ name: 'v1' }], trafficPolicy: { loadBalancer: { simple: 'PASSTHROUGH' } } }),
    destinationRule('hashed', {
      host: 'unset',
      trafficPolicy: {
        portLevelSettings: [
          {
            port: { number: 5000 },
            loadBalancer: {
              consistentHash: { useSourceIp: true, ringHash: { minimumRingSize: 100000 } },
              localityLbSetting: { enabled: false },
            },
          },
        ],
      },
    }),
    service('bad-outlier', { clusterIP: '10.96.0.107', annotations: { 'nearby.io/outlier-detection': 'not json' } }),
    service('unclaimed', { clusterIP: '10.96.0.109', labels: { 'service.kubernetes.io/service-proxy-name': '' } }),
    service('hinted', { clusterIP: '10.96.0.108' }),
    slice('hinted-abc', { service: 'hinted', endpoints: [ep(POD.w2, 'w2', { forZones: ['z9'] })] }),
    service('bad-spillover', { clusterIP: '10.96.0.125', annotations: { 'nearby.io/spillover': 'yes please' } }),
    // Failures.
    service('twin', { clusterIP: SEED_VIP }),
    ...['full', 'invalid', 'bpf', 'broken'].map((name, i) => service(name, { clusterIP: `10.96.0.${110 + i}` })),
    // Rejections.
    'hello',
    { metadata: { name: 'kindless' } },
    { ...slice('old', { service: 'helloworld', endpoints: [] }), apiVersion: 'discovery.k8s.io/v1beta1' },
    node('extra'),
    node('extra'),
    { apiVersion: 'v1', kind: 'Node', metadata: {} },
    { apiVersion: 'v1', kind: 'Node', metadata: { name: 'typed', labels: { 'topology.kubernetes.io/zone': 1 } } },
    service('bad-ip', { clusterIP: '10.96.0.300' }),
    service('bad-port', { clusterIP: '10.96.0.120', ports: [{ name: 'x', port: 0 }] }),
    service('quic', { clusterIP: '10.96.0.121', ports: [{ name: 'x', port: 80, protocol: 'QUIC' }] }),
    withSpec(service('sticky', { clusterIP: '10.96.0.123' }), {
      sessionAffinity: 'ClientIP',
      sessionAffinityConfig: { clientIP: { timeoutSeconds: 0 } },
    }),
    ...BROKEN_SETTINGS.map(({ code, setting }) => localityRule(code, 'helloworld', setting)),
    destinationRule('bad-outlier', { host: 'helloworld', trafficPolicy: { outlierDetection: { interval: 'never' } } }),
    service('dup-port', {
      clusterIP: '10.96.0.122',
      ports: [
        { name: 'x', port: 80 },
        { name: 'x', port: 81 },
      ],
    }),
  ];
}

/** A fixture object with fields added to its spec. */
function withSpec(raw: Record<string, unknown>, fields: Record<string, unknown>): Record<string, unknown> {
  return { ...raw, spec: { ...(raw['spec'] as Record<string, unknown>), ...fields } };
}

interface Seen {
  readonly result: ReconcileResult;
  /** Every problem the pass logged: [message, reason] and the detail for people. */
  readonly logged: Array<{ what: string; detail: string }>;
  readonly metrics: string;
  readonly readiness: ReturnType<typeof readiness>;
}

const running: Reconciler[] = [];
afterEach(() => {
  for (const r of running.splice(0)) r.stop();
  rewording.state.on = false;
});

async function reconcileOnce(reworded: boolean): Promise<Seen> {
  rewording.state.on = reworded;
  const logged: Seen['logged'] = [];
  const logger = pino(
    { level: 'warn' },
    {
      write(line: string) {
        const record = JSON.parse(line) as { msg: string; reason?: string; detail?: string };
        if (record.detail !== undefined) logged.push({ what: `${record.msg}: ${String(record.reason)}`, detail: record.detail });
      },
    },
  );
  const reconciler = new Reconciler(
    { source: new FakeSource(clusterWithEveryProblem()), writer: new RefusingWriter(refusals), nodeName: 'w1', resyncMs: 0 },
    logger,
  );
  running.push(reconciler);
  const passed = await reconciler.reconcileNow('test');
  if (!passed) throw new Error('no pass ran');
  // The writer's messages reach metrics through the result; those made in the pass are reworded here.
  const result = { ...passed, failures: passed.failures.map((f) => ({ ...f, message: rewording.reword(f.message) })) };
  const metrics = new AgentMetrics({ defaultMetrics: false });
  metrics.recordReconcile(result);
  const names = ['nearby_objects_rejected', 'nearby_planner_warnings', 'nearby_services_failed', 'nearby_map_write_errors_total'];
  const text = (await Promise.all(names.map((name) => metrics.registry.getSingleMetricAsString(name)))).join('\n');
  return { result, logged, metrics: text, readiness: readiness('w1', { synced: true, lastSyncMs: 1 }, undefined, result) };
}

describe('reason codes, not messages', () => {
  it('the fixture cluster produces every code there is', async () => {
    const { result } = await reconcileOnce(false);
    expect(Object.keys(result.rejected).sort()).toEqual([...REJECTION_CODES].sort());
    expect(Object.keys(result.warnings).sort()).toEqual([...WARNING_CODES].sort());
    expect(Object.keys(countCodes(result.failures)).sort()).toEqual([...SERVICE_FAILURE_CODES].sort());
  });

  it('rewording every message changes no metric label or value, no logged reason and not readiness', async () => {
    const plain = await reconcileOnce(false);
    const reworded = await reconcileOnce(true);

    // Every message really was reworded: no detail of one run appears in the other. The pass
    // words the VIP conflict itself, so its log line keeps its wording (the result's is reworded).
    const plainDetails = new Set(plain.logged.map((l) => l.detail));
    const unchanged = reworded.logged.filter((l) => plainDetails.has(l.detail)).map((l) => l.what);
    expect(unchanged).toEqual(['service not programmed: vip-conflict']);
    expect(reworded.logged.length).toBeGreaterThanOrEqual(REJECTION_CODES.length + WARNING_CODES.length + SERVICE_FAILURE_CODES.length);
    expect(reworded.result.failures.every((f) => f.message.startsWith('REWORDED'))).toBe(true);

    expect(reworded.metrics).toEqual(plain.metrics);
    expect(reworded.result.rejected).toEqual(plain.result.rejected);
    expect(reworded.result.warnings).toEqual(plain.result.warnings);
    expect(countCodes(reworded.result.failures)).toEqual(countCodes(plain.result.failures));
    expect(reworded.logged.map((l) => l.what).sort()).toEqual(plain.logged.map((l) => l.what).sort());
    expect(reworded.readiness).toEqual(plain.readiness);
    expect(plain.readiness.ready).toBe(false);
  });
});
