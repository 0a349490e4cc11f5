// `nearbyctl demo`'s flags: which experiment, which lab backend, and a usage error for the rest;
// the usage text names every experiment there is.
import { describe, expect, it } from 'vitest';
import { runNearbyctl } from '../../../cmd/ctl/run.js';
import { EXPERIMENTS, runExperiment } from '../../../lab/cli/demo.js';
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

  it('takes --real-nodes (make demo-real-nodes) and --name for the lab', () => {
    expect(parseDemoArgs(['--real-nodes'])).toEqual({ controlPlane: true, experiment: '000', realNodes: true });
    expect(parseDemoArgs(['--real-nodes', '--name', 'deploy-demo'])).toEqual({
      controlPlane: true,
      experiment: '000',
      realNodes: true,
      labName: 'deploy-demo',
    });
  });

  it('takes --install kustomize|helm with --real-nodes (make demo-real-nodes-helm), and refuses it otherwise by name', () => {
    expect(parseDemoArgs(['--real-nodes', '--install', 'helm'])).toEqual({
      controlPlane: true,
      experiment: '000',
      realNodes: true,
      install: 'helm',
    });
    expect(parseDemoArgs(['--real-nodes', '--install=kustomize'])).toMatchObject({ install: 'kustomize' });
    expect(parseDemoArgs(['--real-nodes', '--install', 'kubectl'])).toEqual({
      error: 'nearbyctl demo: --install "kubectl": expected one of kustomize, helm',
    });
    expect(parseDemoArgs(['--install', 'helm'])).toEqual({
      error: 'nearbyctl demo: --install chooses how nearby is installed on real nodes: add --real-nodes',
    });
  });

  it('refuses --real-nodes with --files, and with an experiment that does not run there, before any lab', async () => {
    const out: string[] = [];
    const io = { out: (line: string) => out.push(line) };
    expect((await runExperiment(io, { controlPlane: false, realNodes: true })).code).toBe(2);
    expect(out.join('\n')).toMatch(/--real-nodes runs real kubelets, which need the real control plane: drop --files/);
    expect((await runExperiment(io, { controlPlane: true, realNodes: true, experiment: '003' })).code).toBe(2);
    expect(out.join('\n')).toMatch(/experiment 003 does not run on real nodes yet; --real-nodes runs 000/);
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
