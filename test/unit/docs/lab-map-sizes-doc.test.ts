// docs/nearbyctl.md's "Map sizes" table is the lab's real agent flags, and they hold what the
// docs promise: a Service with 200 ports and 50 endpoints beside the samples.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LAB_MAP_SIZES } from '../../../lab/agent-process.js';

const doc = readFileSync(new URL('../../../docs/nearbyctl.md', import.meta.url), 'utf8');

describe('the lab map sizes', () => {
  it('are documented as the lab sets them', () => {
    const section = doc.split('### Map sizes')[1]?.split('\n### ')[0] ?? '';
    const rows = [...section.matchAll(/^\| \S+ \| `--max-([a-z-]+)` \| (\d+) \|$/gm)].map((m) => [m[1], Number(m[2])]);
    expect(Object.fromEntries(rows)).toEqual(LAB_MAP_SIZES);
  });

  it('hold 200 ports of 50 endpoints each, with a few hundred endpoints to spare', () => {
    const ports = 200;
    const endpoints = 50;
    expect(LAB_MAP_SIZES.services).toBeGreaterThanOrEqual(ports + 100);
    expect(LAB_MAP_SIZES.backends).toBeGreaterThanOrEqual(ports * endpoints + 500);
    expect(LAB_MAP_SIZES.slots).toBeGreaterThanOrEqual(ports * endpoints + 500);
  });
});
