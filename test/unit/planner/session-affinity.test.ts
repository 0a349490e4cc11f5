// spec.sessionAffinity from the Service to the datapath spec (docs/semantics.md, "Session
// affinity"), and a malformed timeout refused as the API server refuses it.
import { describe, expect, it } from 'vitest';
import { convertObject, DEFAULT_AFFINITY_TIMEOUT_SECONDS, keepReadFields } from '../../../pkg/model/index.js';
import { NodeIds, serviceSpecs } from '../../../pkg/reconciler/index.js';
import { ep, node, planFor, plannedService, service, slice } from './fixtures.js';

type Raw = Record<string, unknown>;

/** sample/helloworld with these spec fields added, on two ports (TCP and UDP). */
function withAffinity(fields: Raw): Raw {
  const raw = service('helloworld', {
    ports: [
      { name: 'http', port: 5000, protocol: 'TCP' },
      { name: 'dns', port: 53, protocol: 'UDP' },
    ],
  });
  return { ...raw, spec: { ...(raw['spec'] as Raw), ...fields } };
}

const clientIP = (timeoutSeconds?: unknown): Raw => ({
  sessionAffinity: 'ClientIP',
  ...(timeoutSeconds !== undefined ? { sessionAffinityConfig: { clientIP: { timeoutSeconds } } } : {}),
});

function converted(raw: Raw) {
  const c = convertObject(raw);
  if (c.status !== 'accepted' || c.object.kind !== 'Service') throw new Error(JSON.stringify(c));
  return c.object.service;
}

function specsFor(raw: Raw) {
  const endpoints = [ep('10.0.0.1', 'a'), ep('10.0.0.2', 'a')];
  const ports = [
    { name: 'http', port: 5000, protocol: 'TCP' },
    { name: 'dns', port: 53, protocol: 'UDP' },
  ];
  const result = planFor([node('a'), raw, slice('hw', { service: 'helloworld', endpoints, ports })], 'a');
  return serviceSpecs(plannedService(result), new NodeIds()).map((d) => d.spec);
}

describe('spec.sessionAffinity in the model', () => {
  it('reads ClientIP without a config as the API server defaults it: 10800 s', () => {
    expect(DEFAULT_AFFINITY_TIMEOUT_SECONDS).toBe(10_800);
    expect(converted(withAffinity(clientIP())).sessionAffinitySeconds).toBe(10_800);
  });

  it.each([1, 60, 86_400])('reads ClientIP with timeoutSeconds %d', (t) => {
    expect(converted(withAffinity(clientIP(t))).sessionAffinitySeconds).toBe(t);
  });

  it('reads None, or no field, as no affinity, whatever the config says', () => {
    expect(converted(withAffinity({})).sessionAffinitySeconds).toBeUndefined();
    expect(converted(withAffinity({ sessionAffinity: 'None' })).sessionAffinitySeconds).toBeUndefined();
    const ignored = { sessionAffinity: 'None', sessionAffinityConfig: { clientIP: { timeoutSeconds: 0 } } };
    expect(converted(withAffinity(ignored)).sessionAffinitySeconds).toBeUndefined();
  });

  it.each([0, -1, 86_401, 1.5, '60', true])('refuses the Service for timeoutSeconds %j, as the API server does', (t) => {
    const c = convertObject(withAffinity(clientIP(t)));
    expect(c.status).toBe('rejected');
    if (c.status !== 'rejected') return;
    expect(c.rejection.code).toBe('bad-affinity-timeout');
    expect(c.rejection.name).toBe('sample/helloworld');
    expect(c.rejection.message).toContain('spec.sessionAffinityConfig.clientIP.timeoutSeconds');
  });

  it('refuses an unknown sessionAffinity value', () => {
    const c = convertObject(withAffinity({ sessionAffinity: 'Cookie' }));
    expect(c.status === 'rejected' && c.rejection.code).toBe('unknown-enum');
  });

  it('keeps the fields when a watched object is trimmed to what nearby reads', () => {
    const raw = withAffinity(clientIP(30));
    expect(convertObject(keepReadFields(raw))).toEqual(convertObject(raw));
    expect(converted(keepReadFields(raw) as Raw).sessionAffinitySeconds).toBe(30);
  });
});

describe('session affinity from plan to datapath spec', () => {
  it('gives every port of a ClientIP Service, TCP and UDP, the timeout', () => {
    const specs = specsFor(withAffinity(clientIP(120)));
    expect(specs.map((s) => [s.key.protocol, s.affinitySeconds])).toEqual([
      ['UDP', 120],
      ['TCP', 120],
    ]);
  });

  it('gives a Service without affinity none', () => {
    for (const s of specsFor(withAffinity({}))) expect(s).not.toHaveProperty('affinitySeconds');
  });
});
