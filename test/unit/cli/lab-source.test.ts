// `nearbyctl plan|explain --lab NAME` finds a running lab's cluster (issue 18): a file-backed lab's
// cluster directory, a control-plane lab's kubeconfig, and one line naming the lab when it is not up.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runNearbyctl } from '../../../cmd/ctl/run.js';
import { labSource } from '../../../lab/lab-source.js';
import { refOf } from '../../../lab/processes.js';

let runBase: string;

beforeEach(() => {
  runBase = mkdtempSync(join(tmpdir(), 'nearby-lab-source-'));
});
afterEach(() => rmSync(runBase, { recursive: true, force: true }));

/** A lab's state dir as `lab up` leaves it, its supervisor being this test's own process (alive) or a stale ref. */
function fakeLab(name: string, options: { alive: boolean; controlPlane?: boolean }): string {
  const stateDir = join(runBase, name);
  mkdirSync(join(stateDir, 'cluster'), { recursive: true });
  const self = refOf(process.pid)!;
  const supervisor = options.alive ? self : { pid: self.pid, startTime: `${self.startTime}0` };
  const record = { version: 1, name, stateDir, supervisor, nodes: [], pods: [], ...(options.controlPlane ? { controlPlane: {} } : {}) };
  writeFileSync(join(stateDir, 'lab.json'), JSON.stringify(record));
  if (options.controlPlane) writeFileSync(join(stateDir, 'kubeconfig'), 'apiVersion: v1\nkind: Config\n');
  return stateDir;
}

async function nearbyctl(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runNearbyctl(argv, { out: (t) => out.push(t), err: (t) => err.push(t) }, {});
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('labSource', () => {
  it("gives a running file-backed lab's cluster directory as --state", () => {
    const stateDir = fakeLab('files', { alive: true });
    expect(labSource('files', runBase)).toEqual({ state: join(stateDir, 'cluster') });
  });

  it("gives a running control-plane lab's admin kubeconfig", () => {
    const stateDir = fakeLab('real', { alive: true, controlPlane: true });
    expect(labSource('real', runBase)).toEqual({ kubeconfig: join(stateDir, 'kubeconfig') });
  });

  it('names the lab when none by that name is up', () => {
    expect(() => labSource('absent', runBase)).toThrow(/^lab absent is not running \(nothing at .*\): run nearbyctl lab up --name absent/);
  });

  it("names the lab when its supervisor is gone (a crashed lab's leftovers)", () => {
    fakeLab('crashed', { alive: false });
    expect(() => labSource('crashed', runBase)).toThrow(/^lab crashed is not running \(its supervisor is gone\)/);
  });
});

describe('nearbyctl --lab', () => {
  it('plan and explain say in one line which lab is not running, exit 2', async () => {
    for (const argv of [
      ['plan', '--lab', 'nc-no-such-lab', '--node', 'n1'],
      ['explain', 'default/x', '--lab', 'nc-no-such-lab', '--node', 'n1'],
    ]) {
      const r = await nearbyctl(argv);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/^nearbyctl: --lab nc-no-such-lab: lab nc-no-such-lab is not running \(nothing at [^\n]*\)[^\n]*$/);
    }
  });

  it('refuses --lab with another source', async () => {
    const r = await nearbyctl(['plan', '--lab', 'x', '--state', '/tmp', '--node', 'n1']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('--lab finds the lab');
  });

  it('is in the usage text', async () => {
    expect((await nearbyctl(['--help'])).out).toContain('--lab NAME');
  });
});
