// deploy/prometheus/nearby-rules.yaml under the pinned release's promtool: the file passes
// `promtool check rules`, and `promtool test rules` runs test/prometheus/rules-test.yaml, where
// every alert fires on the series that mean trouble and stays quiet on the healthy ones. A copy of
// the rules with one condition turned around must fail those tests, so they can fail.
// Needs `make prometheus`; fails, never skips, without it. No root, no kernel.
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolvePrometheus } from '../../lab/prometheus/index.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const RULES = join(ROOT, 'deploy/prometheus/nearby-rules.yaml');
const RULE_TESTS = join(ROOT, 'test/prometheus/rules-test.yaml');
const run = promisify(execFile);

let promtool: string;
let scratch: string;

interface Outcome {
  readonly code: number;
  readonly output: string;
}

async function promtoolRun(args: string[], cwd?: string): Promise<Outcome> {
  try {
    const { stdout, stderr } = await run(promtool, args, { cwd, timeout: 60_000 });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

/** The rule tests beside a given rules file, laid out as the real ones are (rule_files is relative). */
function layOut(rulesText: string): string {
  const dir = mkdtempSync(join(scratch, 'case-'));
  mkdirSync(join(dir, 'deploy/prometheus'), { recursive: true });
  mkdirSync(join(dir, 'test/prometheus'), { recursive: true });
  writeFileSync(join(dir, 'deploy/prometheus/nearby-rules.yaml'), rulesText);
  copyFileSync(RULE_TESTS, join(dir, 'test/prometheus/rules-test.yaml'));
  return join(dir, 'test/prometheus/rules-test.yaml');
}

beforeAll(() => {
  // Throws naming `make prometheus` when it has not run, failing every test here.
  promtool = resolvePrometheus().promtool;
  scratch = mkdtempSync(join(tmpdir(), 'nearby-promtool-'));
});

afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe('alert rules under promtool', () => {
  it('pass promtool check rules', async () => {
    const result = await promtoolRun(['check', 'rules', RULES]);
    expect(result.output).toMatch(/SUCCESS: 5 rules found/);
    expect(result.code, result.output).toBe(0);
  });

  it('pass their unit tests: each alert fires when it should and only then', async () => {
    const result = await promtoolRun(['test', 'rules', RULE_TESTS]);
    console.info(result.output.trim());
    expect(result.code, result.output).toBe(0);
  });

  it('pass them too from a copy laid out as the mutants below are', async () => {
    const result = await promtoolRun(['test', 'rules', layOut(readFileSync(RULES, 'utf8'))]);
    expect(result.code, result.output).toBe(0);
  });

  it.each([
    ['a tier-0 share that must fall below 0.5', '< 0.5', '< 0.3'],
    ['a baseline of at least 80% in the hour before', '>= 0.8', '>= 0.95'],
    ['map write errors counted over 10 minutes', '[10m])) > 0', '[10m])) > 5'],
    [
      'rejected objects held for 10 minutes',
      'sum by (node, reason) (nearby_objects_rejected) > 0',
      'sum by (node, reason) (nearby_objects_rejected) > 2',
    ],
    ['a silent scrape target', 'up{job="nearby-agent"} == 0', 'up{job="nearby-agent"} == 2'],
    ['a datapath failing open', '(nearby_failing_open) == 1', '(nearby_failing_open) == 2'],
    ['failing open for a minute, not five', 'for: 1m', 'for: 5m'],
  ])('fail their unit tests when a rule no longer sees %s', async (_what, from, to) => {
    const original = readFileSync(RULES, 'utf8');
    expect(original).toContain(from);
    const result = await promtoolRun(['test', 'rules', layOut(original.replace(from, to))]);
    expect(result.code, result.output).not.toBe(0);
    expect(result.output).toMatch(/FAILED/);
  });
});
