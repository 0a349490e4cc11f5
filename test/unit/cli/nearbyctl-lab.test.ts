// `nearbyctl lab` and `nearbyctl demo` belong to the lab package: nearbyctl runs them when the lab
// is beside it (a checkout), and says in one line where to get it when it is not (the image).
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LAB_USAGE } from '../../../lab/cli/lab.js';
import { LAB_NOT_INSTALLED } from '../../../cmd/ctl/lab-commands.js';
import { runNearbyctl } from '../../../cmd/ctl/run.js';
import { ROOT } from '../../fixtures/deploy-render.js';

async function nearbyctl(argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runNearbyctl(argv, { out: (t) => out.push(t), err: (t) => err.push(t) }, {});
  return { code, out, err };
}

describe('nearbyctl in a checkout', () => {
  it("runs the lab's commands from the lab package", async () => {
    expect(await nearbyctl(['lab', '--help'])).toEqual({ code: 0, out: [LAB_USAGE], err: [] });
    const bad = await nearbyctl(['lab', 'frobnicate']);
    expect(bad.code).toBe(2);
    expect(bad.err[0]).toMatch(/^nearbyctl lab: unknown lab command "frobnicate"/);
  });
});

describe('nearbyctl without the lab, as the image has it', () => {
  let dir: string;

  beforeAll(() => {
    // The product's sources alone, as the image has the product's build alone.
    dir = mkdtempSync(join(tmpdir(), 'nearbyctl-product-'));
    for (const part of ['cmd', 'pkg', 'package.json']) cpSync(join(ROOT, part), join(dir, part), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  });

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const run = (argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
    new Promise((res) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', join(dir, 'cmd/nearbyctl.ts'), ...argv],
        { cwd: dir, encoding: 'utf8', timeout: 30_000 },
        (error, stdout, stderr) => res({ code: error ? ((error as { code?: number }).code ?? -1) : 0, stdout, stderr }),
      );
    });

  it.each(['lab status', 'demo'])('says in one line how to get the lab for `nearbyctl %s`, and exits 2', async (command) => {
    const r = await run(command.split(' '));
    expect(r).toEqual({ code: 2, stdout: '', stderr: `nearbyctl: ${LAB_NOT_INSTALLED}\n` });
  });
});
