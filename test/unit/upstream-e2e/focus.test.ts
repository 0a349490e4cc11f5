// The Makefile's Ginkgo focus for make e2e-upstream, the one copy of it: docs/real-nodes.md shows
// it as written, and it selects exactly the 11 tests `e2e.test --ginkgo.dry-run` listed for
// Kubernetes v1.36.3 (Go's regexp and JavaScript's agree on this syntax), not their neighbours.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const read = (file: string): string => readFileSync(new URL(`../../../${file}`, import.meta.url), 'utf8');
const focus = /^E2E_UPSTREAM_FOCUS := (.+)$/m.exec(read('Makefile'))?.[1] ?? '';

const SELECTED = [
  'Services should fallback to local terminating endpoints when there are no ready endpoints with internalTrafficPolicy=Local',
  'Services should fallback to terminating endpoints when there are no ready endpoints with internalTrafficPolicy=Cluster',
  'Services should respect internalTrafficPolicy=Local Pod (hostNetwork: true) to Pod',
  'Services should respect internalTrafficPolicy=Local Pod and Node, to Pod (hostNetwork: true)',
  'Services should respect internalTrafficPolicy=Local Pod to Pod',
  'Traffic Distribution should route traffic correctly between pods on multiple nodes when using PreferClose',
  'Traffic Distribution should route traffic correctly between pods on multiple nodes when using PreferSameZone',
  'Traffic Distribution should route traffic to an endpoint in the same zone when using PreferClose',
  'Traffic Distribution should route traffic to an endpoint in the same zone when using PreferSameZone',
  'Traffic Distribution should route traffic to an endpoint on the same node or fall back to same zone when using PreferSameNode',
  'Traffic Distribution should route traffic to an endpoint on the same node when using PreferSameNode and fall back when the endpoint becomes unavailable',
].map((name) => `[sig-network] ${name} [sig-network]`);

const NEIGHBOURS = [
  '[sig-network] Services should support externalTrafficPolicy=Local for type=NodePort [sig-network]',
  '[sig-network] Services should fallback to terminating endpoints when there are no ready endpoints with externallTrafficPolicy=Cluster [sig-network]',
  '[sig-network] Services should serve a basic endpoint from pods [Conformance] [sig-network]',
  '[sig-network] Topology Hints should distribute endpoints evenly [sig-network]',
];

describe('E2E_UPSTREAM_FOCUS', () => {
  it('is in the Makefile', () => {
    expect(focus).not.toBe('');
  });

  it('selects the 11 tests and none of their neighbours', () => {
    const re = new RegExp(focus);
    expect(SELECTED.filter((name) => !re.test(name))).toEqual([]);
    expect(NEIGHBOURS.filter((name) => re.test(name))).toEqual([]);
  });

  it('is shown in docs/real-nodes.md as written', () => {
    expect(read('docs/real-nodes.md')).toContain(`\n${focus}\n`);
  });
});
