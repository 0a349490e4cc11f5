// The chart's uninstall: pre-delete hooks that create the cleanup DaemonSet before the Job that
// waits for it, and a wait that counts a node only once its cleanup exited 0. Helm deletes the
// hooks after the Job succeeded; a failed Job leaves them for inspection and fails the uninstall.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cleanupProgress } from '../../../cmd/ctl/cleanup-wait.js';
import { helmYaml, type KubeObject, NAMESPACE, only, parseObjects, ROOT } from '../../fixtures/deploy-render.js';

const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

let hooks: KubeObject[];
let custom: KubeObject[];
let disabled: KubeObject[];
const hooksOf = (objects: readonly KubeObject[]) => objects.filter((o) => o.metadata.annotations?.['helm.sh/hook']);

beforeAll(async () => {
  const [chart, set, off] = await Promise.all([
    helmYaml(),
    helmYaml({ 'uninstall.timeoutSeconds': '900', 'image.repository': 'registry.example/nearby', 'image.tag': 'custom' }),
    helmYaml({ 'uninstall.enabled': 'false' }),
  ]);
  hooks = hooksOf(parseObjects(chart));
  custom = hooksOf(parseObjects(set));
  disabled = hooksOf(parseObjects(off));
});

describe('the pre-delete hook', () => {
  it('is every hook object, deleted by Helm once it succeeded, in order: identity, DaemonSet, then the Job', () => {
    const order = hooks
      .map((o) => ({ what: `${o.kind}/${o.metadata.name}`, weight: Number(o.metadata.annotations!['helm.sh/hook-weight']) }))
      .sort((a, b) => a.weight - b.weight);
    expect(order.map((o) => o.what)).toEqual([
      'ServiceAccount/nearby-cleanup',
      'Role/nearby-cleanup',
      'RoleBinding/nearby-cleanup',
      'DaemonSet/nearby-cleanup',
      'Job/nearby-cleanup-wait',
    ]);
    expect(new Set(order.map((o) => o.weight)).size).toBe(3);
    for (const o of hooks) {
      expect(o.metadata.annotations?.['helm.sh/hook']).toBe('pre-delete');
      expect(o.metadata.annotations?.['helm.sh/hook-delete-policy']).toBe('before-hook-creation,hook-succeeded');
      expect(o.metadata.namespace).toBe(NAMESPACE);
    }
  });

  it('runs `nearby-agent --cleanup` per node in an init container, so a Ready pod means a cleaned node', () => {
    const ds = only(hooks, 'DaemonSet', 'nearby-cleanup') as unknown as {
      spec: {
        selector: { matchLabels: Record<string, string> };
        template: { spec: { initContainers: Array<{ image: string; args: string[]; env: unknown[] }>; containers: unknown[] } };
      };
    };
    const [cleanup] = ds.spec.template.spec.initContainers;
    expect(cleanup?.args).toEqual(['--cleanup']);
    expect(cleanup?.image).toBe(`ghcr.io/nearby-lb/nearby-agent:${VERSION}`);
    expect(cleanup?.env).toContainEqual({ name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } });
    expect(cleanup?.env).toContainEqual({ name: 'NEARBY_BPFFS', value: '/run/nearby/bpffs' });
    // Its own selector: the agent's DaemonSet and metrics Service never take these pods for agents.
    expect(ds.spec.selector.matchLabels).toEqual({ 'app.kubernetes.io/name': 'nearby', 'app.kubernetes.io/component': 'cleanup' });
  });

  it('waits with nearbyctl for that DaemonSet, within the configured time, and never retries a failed wait', () => {
    const job = (objects: readonly KubeObject[]) =>
      only(objects, 'Job', 'nearby-cleanup-wait') as unknown as {
        spec: {
          backoffLimit: number;
          activeDeadlineSeconds: number;
          template: { spec: { restartPolicy: string; containers: Array<{ image: string; command: string[]; args: string[] }> } };
        };
      };
    const c = job(hooks).spec.template.spec.containers[0]!;
    expect([...c.command, ...c.args]).toEqual([
      'node',
      'dist/cmd/nearbyctl.js',
      'wait-cleanup',
      `${NAMESPACE}/nearby-cleanup`,
      '--timeout',
      '300',
    ]);
    expect(job(hooks).spec).toMatchObject({ backoffLimit: 0, activeDeadlineSeconds: 360 });
    expect(job(hooks).spec.template.spec.restartPolicy).toBe('Never');
    const customJob = job(custom).spec.template.spec.containers[0]!;
    expect(customJob.args.slice(-1)).toEqual(['900']);
    expect(customJob.image).toBe('registry.example/nearby:custom');
  });

  it('is left out with uninstall.enabled=false', () => {
    expect(disabled).toEqual([]);
  });
});

describe('cleanupProgress (what the Job waits for)', () => {
  const ds = (generation: number, status: Record<string, number> | undefined) => ({ metadata: { generation }, status: status as never });

  it('is done when the controller saw this generation and every scheduled pod is updated and Ready', () => {
    expect(cleanupProgress(ds(1, { observedGeneration: 1, desiredNumberScheduled: 3, numberReady: 3, updatedNumberScheduled: 3 }))).toEqual(
      {
        done: true,
        ready: 3,
        desired: 3,
      },
    );
  });

  it('is not done while a node has not finished, or before the controller has counted', () => {
    expect(
      cleanupProgress(ds(1, { observedGeneration: 1, desiredNumberScheduled: 3, numberReady: 2, updatedNumberScheduled: 3 })).done,
    ).toBe(false);
    expect(
      cleanupProgress(
        ds(1, { observedGeneration: 1, desiredNumberScheduled: 3, numberReady: 3, updatedNumberScheduled: 3, numberUnavailable: 1 }),
      ).done,
    ).toBe(false);
    // A new DaemonSet reports zeros before its controller has looked: not "zero of zero nodes done".
    expect(cleanupProgress(ds(1, undefined)).done).toBe(false);
    expect(
      cleanupProgress(ds(2, { observedGeneration: 1, desiredNumberScheduled: 0, numberReady: 0, updatedNumberScheduled: 0 })).done,
    ).toBe(false);
  });
});
