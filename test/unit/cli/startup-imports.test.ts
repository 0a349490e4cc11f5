// nearbyctl starts fast: its entry point does not load the Kubernetes client (most of a second)
// before it knows the command needs it; commands that talk to a cluster import it on demand.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runNearbyctl } from '../../../cmd/ctl/run.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const HEAVY = '@kubernetes/client-node';

/** Every module the file loads before running anything: its static, non-type imports, followed through the project's own files. */
function staticImports(entry: string): Set<string> {
  const seen = new Set<string>();
  const pending = [entry];
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const source = readFileSync(file, 'utf8');
    for (const m of source.matchAll(/^(?:import|export)\s+(?!type\b)[^;]*?from\s+'([^']+)'/gms)) {
      const target = m[1]!;
      if (target.startsWith('.')) pending.push(join(dirname(file), target.replace(/\.js$/, '.ts')));
      else seen.add(target);
    }
  }
  return seen;
}

describe('nearbyctl start-up', () => {
  it('does not load the Kubernetes client at start', () => {
    const loaded = staticImports(join(ROOT, 'cmd/nearbyctl.ts'));
    expect(loaded.size).toBeGreaterThan(5);
    expect([...loaded].filter((m) => m === HEAVY || m.endsWith('/pkg/source/index.ts'))).toEqual([]);
  });

  it('--version prints the package version', async () => {
    const out: string[] = [];
    const code = await runNearbyctl(['--version'], { out: (t) => out.push(t), err: (t) => out.push(t) });
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(code).toBe(0);
    expect(out).toEqual([`nearbyctl ${version}`]);
  });
});
