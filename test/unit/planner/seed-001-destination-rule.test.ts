// Seed 001's DestinationRule example (subsets v1/v2, simple ROUND_ROBIN), read verbatim from
// deploy/samples/seed-001 through the manifest reader FileSource uses: it applies without error,
// and `nearbyctl explain` says what of it an L4 balancer does not apply.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { explainService } from '../../../cmd/ctl/explain.js';
import { buildSnapshot } from '../../../pkg/model/index.js';
import { explainRule, plan } from '../../../pkg/planner/index.js';
import { parseManifest } from '../../../pkg/source/manifest-parse.js';
import { seedEndpoints, seedNodes, service, slice } from './fixtures.js';

const FILE = join(import.meta.dirname, '../../../deploy/samples/seed-001/destination-rule-subsets.yaml');
const [RULE] = parseManifest(FILE, readFileSync(FILE, 'utf8'));
// The rule carries no namespace; applied as written it lands in `default`, beside this Service.
const cluster = [
  ...seedNodes(),
  service('my-service', { namespace: 'default' }),
  slice('my-service-1', { service: 'my-service', namespace: 'default', endpoints: seedEndpoints() }),
];

function build(rule: Record<string, unknown>) {
  return buildSnapshot([...cluster, rule]);
}

describe("seed 001's DestinationRule, verbatim", () => {
  it('is accepted: no rejection, ROUND_ROBIN kept, subsets recorded as not applied', () => {
    const { snapshot, rejected } = build(RULE!);
    expect(rejected).toEqual([]);
    expect(snapshot.destinationRules.get('default/my-destination-rule')).toMatchObject({
      host: 'my-service.example.com',
      loadBalancer: { simple: 'ROUND_ROBIN' },
      notApplied: ['spec.subsets'],
    });
    expect(plan(snapshot, 'w1').warnings).toEqual([]);
  });

  it('names a host outside the cluster, so it applies to no Service and explain says nothing of it', () => {
    const { snapshot } = build(RULE!);
    expect(explainRule(snapshot, 'default/my-service')).toEqual([]);
  });

  it('with host naming a Service of the cluster, explain shows ROUND_ROBIN applied and subsets not applied at L4', () => {
    const spec = { ...(RULE!['spec'] as Record<string, unknown>), host: 'my-service' };
    const { snapshot, rejected } = build({ ...RULE!, spec });
    expect(rejected).toEqual([]);
    expect(explainRule(snapshot, 'default/my-service')).toEqual([
      'DestinationRule default/my-destination-rule applies (from the service namespace, host "my-service" names my-service.default.svc.cluster.local)',
      '  it sets no localityLbSetting: the Service keeps the locality its own fields give it',
      '  port 5000: ROUND_ROBIN inside the tier',
      '  not applied at L4: spec.subsets',
    ]);
    const { text, found } = explainService(snapshot, 'w1', 'default/my-service', {});
    expect(found).toBe(true);
    expect(text).toContain('not applied at L4: spec.subsets');
  });
});
