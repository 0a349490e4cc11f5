/*
 * What the verifier spends on each program, from its own statistics line. The connect path is
 * split into global subprograms (bpf/nearby.bpf.c, "Verifier cost") so that the verifier checks
 * each step once; inlined, it walked ~460,000 instructions per program and the object took
 * seconds to load, four programs over. A count, not a time: deterministic for one kernel and one
 * compiler, so this fails when a change brings the path explosion back.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { defaultObjectPath, PROGRAMS } from '../../pkg/datapath/index.js';
import { assertKernelPrereqs } from '../../lab/kernel-lab/index.js';

/** Per program: today the connect and sendmsg programs take ~38,000 and sockops ~50,000. */
const BUDGET = 150_000;

let processed: Map<string, number>;

beforeAll(() => {
  assertKernelPrereqs();
  // Loaded by bpftool into a pin directory of our own, never attached: verification only.
  const dir = mkdtempSync('/sys/fs/bpf/nearby-verifier-cost-');
  try {
    // -d prints libbpf's debug output, which carries each program's verifier log (on stderr).
    const run = spawnSync('bpftool', ['-d', 'prog', 'loadall', defaultObjectPath(), dir], {
      encoding: 'utf8',
      maxBuffer: 256 * 1024 * 1024,
    });
    if (run.status !== 0) throw new Error(`bpftool prog loadall failed (${run.status}): ${run.stderr.slice(-2000)}`);
    processed = parse(run.stderr);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 120_000);

/** program name -> instructions processed, from "prog 'X': -- BEGIN PROG LOAD LOG --" ... "processed N insns". */
function parse(log: string): Map<string, number> {
  const result = new Map<string, number>();
  let current: string | undefined;
  for (const line of log.split('\n')) {
    const begin = /prog '([^']+)': -- BEGIN PROG LOAD LOG --/.exec(line);
    if (begin) current = begin[1];
    const stats = /^processed (\d+) insns/.exec(line);
    if (stats && current !== undefined) result.set(current, Number(stats[1]));
  }
  return result;
}

describe('the verifier cost of each program', () => {
  it('is reported for every program the agent attaches', () => {
    expect([...processed.keys()].sort()).toEqual([...PROGRAMS].sort());
  });

  it(`stays under ${BUDGET} processed instructions per program`, () => {
    const over = [...processed].filter(([, n]) => n > BUDGET);
    console.info(`verifier: ${[...processed].map(([p, n]) => `${p}=${n}`).join(' ')}`);
    expect(over).toEqual([]);
  });
});
