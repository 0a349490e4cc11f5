// The docs' commands run as written (issue 18): every ```sh lab``` block of the README and docs/,
// in document order, runs through nearbyctl as a user types it, each command exiting 0. The
// README's block brings the lab up (a file-backed lab, as the README shows); the later blocks
// run on it; `lab down` at the end must leave nothing behind.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listLabs } from '../../lab/index.js';
import { allShellBlocks, commandsOf } from '../tools/docs/shell-blocks.js';
import { assertLabPrereqs, ROOT } from './lab-fixture.js';

/** The kind Cluster name of deploy/samples/kind-cluster.yaml, which the README's block brings up. */
const LAB = 'ambient';
const BLOCK_TIMEOUT_MS = 180_000;

const blocks = allShellBlocks(ROOT).filter((b) => b.place === 'lab');
let bin: string;

/** `nearbyctl` on PATH as the README puts it there: the checkout's build. */
function nearbyctlOnPath(): string {
  const dir = mkdtempSync(join(tmpdir(), 'nearby-doc-bin-'));
  const wrapper = join(dir, 'nearbyctl');
  writeFileSync(
    wrapper,
    `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(join(ROOT, 'dist/cmd/nearbyctl.js'))} "$@"\n`,
  );
  chmodSync(wrapper, 0o755);
  return dir;
}

function sh(commands: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('bash', ['-euo', 'pipefail', '-c', commands], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: BLOCK_TIMEOUT_MS,
    env: { ...process.env, PATH: `${bin}:${process.env['PATH'] ?? ''}` },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(async () => {
  await assertLabPrereqs();
  expect(listLabs(), `a lab named ${LAB} is already up`).not.toContain(LAB);
  bin = nearbyctlOnPath();
});

afterAll(() => {
  if (listLabs().includes(LAB)) sh(`nearbyctl lab down --name ${LAB}`);
  if (bin) rmSync(bin, { recursive: true, force: true });
});

describe.sequential('```sh lab``` blocks of the README and docs/', () => {
  it('there are some, the first one bringing the lab up', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(4);
    expect(commandsOf(blocks[0]!)).toMatch(/^nearbyctl lab up deploy\/samples\/kind-cluster\.yaml\n/);
  });

  for (const block of blocks) {
    it(
      `${block.file}:${block.line} runs as written`,
      () => {
        const r = sh(commandsOf(block));
        expect(r, `${block.file}:${block.line}:\n${commandsOf(block)}`).toMatchObject({ status: 0 });
      },
      BLOCK_TIMEOUT_MS,
    );
  }

  it(
    'lab down leaves nothing behind (it checks, and exits 1 otherwise)',
    () => {
      const r = sh(`nearbyctl lab down --name ${LAB}`);
      expect(r, r.stderr).toMatchObject({ status: 0 });
      expect(listLabs()).not.toContain(LAB);
    },
    BLOCK_TIMEOUT_MS,
  );
});
