// `nearby-agent --cleanup` and `nearbyctl uninstall` on what they are told, before any BPF: the
// node whose pins to remove, and a clean node being no error (the cleanup is re-run freely).
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseCleanupOptions } from '../../../cmd/agent/cleanup-options.js';
import { runNearbyctl } from '../../../cmd/ctl/run.js';
import { StartupError } from '../../../cmd/startup-error.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('parseCleanupOptions', () => {
  it("takes the node and bpffs from the agent's envs, a flag winning", () => {
    expect(parseCleanupOptions(['--cleanup'], { NODE_NAME: 'w1', NEARBY_BPFFS: '/run/nearby/bpffs' })).toEqual({
      nodeName: 'w1',
      pinRoot: '/run/nearby/bpffs/nearby/w1',
      logLevel: 'info',
    });
    expect(parseCleanupOptions(['--cleanup', '--node-name', 'w2', '--bpffs', '/b'], { NODE_NAME: 'w1' })?.pinRoot).toBe('/b/nearby/w2');
  });

  it('needs a valid node name (it becomes a path) and no cgroup', () => {
    expect(() => parseCleanupOptions(['--cleanup'], {})).toThrow(StartupError);
    expect(() => parseCleanupOptions(['--cleanup', '--node-name', '../etc'], {})).toThrow(/not a valid node name/);
    expect(() => parseCleanupOptions(['--cleanup', '--cgroup-path', '/x'], { NODE_NAME: 'w1' })).toThrow(/--cgroup-path/);
  });
});

describe('nearbyctl uninstall', () => {
  const run = async (argv: string[], env: NodeJS.ProcessEnv) => {
    const out: string[] = [];
    const code = await runNearbyctl(argv, { out: (t) => out.push(t), err: (t) => out.push(t) }, env);
    return { code, out };
  };

  it('exits 0 when no node is pinned: a second uninstall is not an error', async () => {
    const bpffs = mkdtempSync(join(tmpdir(), 'nearby-bpffs-'));
    dirs.push(bpffs);
    const { code, out } = await run(['uninstall', '--bpffs', bpffs], {});
    expect(code).toBe(0);
    expect(JSON.parse(out[0]!)).toMatchObject({ bpffs, msg: 'uninstall done: no node is pinned under <bpffs>/nearby' });
  });

  it('refuses to guess among several pinned nodes (exit 2)', async () => {
    const bpffs = mkdtempSync(join(tmpdir(), 'nearby-bpffs-'));
    dirs.push(bpffs);
    for (const n of ['a', 'b']) mkdirSync(join(bpffs, 'nearby', n), { recursive: true });
    const { code, out } = await run(['uninstall', '--bpffs', bpffs], {});
    expect(code).toBe(2);
    expect(out.join('\n')).toMatch(/2 nodes are pinned .*: a, b; choose one with --node/);
  });
});
