// `lab status` shows the locality and the policy the planner reads from the lab's objects, not
// its own reading of labels and spec fields (issue 18: LOCALITY and POLICY that tell the truth).
import { describe, expect, it } from 'vitest';
import { policyCell, statusText } from '../../../lab/cli/lab-print.js';
import { plannedView } from '../../../lab/planned-view.js';
import { labStatus } from '../../../lab/status-views.js';
import type { LabStatus } from '../../../lab/status.js';
import type { ServiceView } from '../../../lab/views.js';
import { namespace, node, service } from '../planner/fixtures.js';

const TD = 'networking.istio.io/traffic-distribution';

const objects = [
  node('w1', { region: 'r1', zone: 'z1', subzone: 'k8s-sub', istioSubzone: 'istio-sub' }),
  node('w2', { zone: 'z2' }),
  node('w3'),
  namespace('sample', { [TD]: 'PreferClose' }),
  namespace('typo', { [TD]: 'PerferClose' }),
  service('by-namespace'),
  service('by-field', { trafficDistribution: 'PreferSameZone' }),
  service('local', { internalTrafficPolicy: 'Local' }),
  service('misspelled', { namespace: 'typo', annotations: { [TD]: 'PreferCloze' } }),
];

const view = plannedView(objects, ['w1', 'w2', 'w3', 'gone'], { preferCloseMeaning: 'subzone' });

function serviceView(ns: string, name: string): ServiceView {
  return { namespace: ns, name, clusterIP: '10.96.0.10', ports: [{ port: 5000, protocol: 'TCP' }], raw: {} } as unknown as ServiceView;
}

describe('LOCALITY in lab status', () => {
  it("is the planner's reading of the node labels: Istio's subzone wins, as the agents read it", () => {
    expect(view.localities.get('w1')).toBe('r1/z1/istio-sub');
    expect(view.localities.get('w2')).toBe('-/z2/-');
    expect(view.localities.get('w3')).toBeNull();
    expect(view.localities.get('gone')).toBeNull();
  });

  it('follows the labels of the objects given, so a relabel shows at the next status', () => {
    const relabelled = plannedView([node('w3', { region: 'r9', zone: 'z9' })], ['w3'], {});
    expect(relabelled.localities.get('w3')).toBe('r9/z9/-');
  });
});

describe('POLICY in lab status', () => {
  it('names a policy that comes from the namespace annotation', () => {
    expect(view.policies.get('sample/by-namespace')).toEqual({
      mode: 'FAILOVER',
      from: `Namespace sample annotation ${TD}=PreferClose`,
      ignored: [],
    });
    expect(view.policies.get('sample/by-field')).toMatchObject({ mode: 'FAILOVER', from: 'spec.trafficDistribution=PreferSameZone' });
    expect(view.policies.get('sample/local')).toMatchObject({ mode: 'STRICT', from: 'spec.internalTrafficPolicy=Local' });
  });

  it('does not show a misspelled value as if it applied: the fallback, and what was ignored', () => {
    const misspelled = view.policies.get('typo/misspelled')!;
    expect(misspelled.mode).toBe('RANDOM');
    expect(misspelled.from).toBe('no locality policy');
    expect(misspelled.ignored.join('\n')).toContain('"PreferCloze"');
    expect(misspelled.ignored.join('\n')).toContain('"PerferClose"');
  });

  it('prints mode and source in the POLICY column, and the planner locality in LOCALITY', () => {
    const status = labStatus({
      name: 'lab',
      stateDir: '/s',
      createdAt: new Date().toISOString(),
      supervisorPid: 1,
      nodes: [],
      pods: [],
      services: [serviceView('sample', 'by-namespace'), serviceView('typo', 'misspelled')],
      policies: view.policies,
    });
    const text = statusText(status);
    expect(text).toMatch(new RegExp(`sample/by-namespace .* FAILOVER \\(Namespace sample annotation ${TD}=PreferClose\\)`));
    expect(policyCell(status.services[1]!)).toMatch(
      /^RANDOM \(no locality policy; .*Service typo\/misspelled: [^;]*"PreferCloze", ignored\)$/,
    );
    const json = JSON.parse(JSON.stringify(status)) as LabStatus;
    expect(json.services[0]?.policy?.from).toBe(`Namespace sample annotation ${TD}=PreferClose`);
  });
});
