// `nearbyctl demo`'s flags: which experiment, which lab backend, and a usage error for the rest;
// the usage text names every experiment there is.
import { describe, expect, it } from 'vitest';
import { runNearbyctl } from '../../../cmd/ctl/run.js';
import { EXPERIMENTS } from '../../../lab/cli/demo.js';
import { parseDemoArgs } from '../../../lab/cli/index.js';

describe('nearbyctl demo flags', () => {
  it('defaults to the seed 000/002 experiment on a real control plane (make demo-cluster; make demo adds --files)', () => {
    expect(parseDemoArgs([])).toEqual({ controlPlane: true, experiment: '000' });
    expect(parseDemoArgs(['--files'])).toEqual({ controlPlane: false, experiment: '000' });
  });

  it('takes --experiment 003, in either form', () => {
    expect(parseDemoArgs(['--experiment', '003'])).toEqual({ controlPlane: true, experiment: '003' });
    expect(parseDemoArgs(['--experiment=003'])).toEqual({ controlPlane: true, experiment: '003' });
  });

  it('refuses an unknown experiment or flag by name', () => {
    expect(parseDemoArgs(['--experiment', '042'])).toEqual({
      error: expect.stringMatching(/--experiment "042": expected one of 000, 003/) as unknown,
    });
    expect(parseDemoArgs(['--fast'])).toEqual({ error: expect.stringMatching(/--fast/) as unknown });
    expect(parseDemoArgs(['003'])).toEqual({ error: expect.stringMatching(/003/) as unknown });
  });

  it('names every experiment in the usage text', async () => {
    const out: string[] = [];
    await runNearbyctl(['--help'], { out: (t) => out.push(t), err: (t) => out.push(t) }, {});
    const usage = out.join('\n');
    expect(usage).toContain(`--experiment ${EXPERIMENTS.map((e) => e.id).join('|')}`);
  });
});
