// KubernetesSource and Istio's DestinationRules on a real kube-apiserver, as the agent (the
// ServiceAccount token and RBAC of deploy/): without the CRD it syncs and says once that the kind
// is not served; once deploy/crds/destinationrule.yaml is applied it picks the kind up through
// discovery and names each rule (v1beta1 ones read as v1, the version it serves first); when the
// CRD is deleted the rules leave the source, which stays synced. Needs the binaries of
// `make control-plane`; fails, never skips, when they are missing.
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestControlPlane, type TestControlPlane } from './control-plane-fixture.js';
import { agentIdentity, type ControlPlane } from '../../lab/control-plane/index.js';
import { KubernetesSource, type ObjectChange, type SourceLog } from '../../pkg/source/index.js';
import { DEPLOY } from '../fixtures/deploy-render.js';
import { ifSetUp } from '../fixtures/if-set-up.js';

const NS = 'rules';
const CRD = join(DEPLOY, 'crds/destinationrule.yaml');
const CRD_NAME = 'destinationrules.networking.istio.io';
/** Short, so the test waits on discovery in seconds; the agent's default is a minute. */
const CHECK_MS = 300;

let env: TestControlPlane;
let cp: ControlPlane;
let source: KubernetesSource;
const batches: Array<readonly ObjectChange[] | undefined> = [];
const logLines: string[] = [];

const log: SourceLog = {
  info: (_fields, message) => logLines.push(`info: ${message}`),
  warn: (_fields, message) => logLines.push(`warn: ${message}`),
};

async function kubectl(args: string[], input?: string): Promise<string> {
  const result = await cp.kubectl(args, input);
  if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
  return result.stdout;
}

async function eventually<T>(what: string, read: () => T, done: (value: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (done(value)) return value;
    if (Date.now() >= deadline)
      throw new Error(`${what}: not reached within ${timeoutMs} ms; last seen ${JSON.stringify(value).slice(0, 2000)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

interface Held {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  spec?: Record<string, unknown>;
}

const rules = (): Held[] => (source.objects() as Held[]).filter((o) => o.kind === 'DestinationRule');

beforeAll(async () => {
  env = await startTestControlPlane('source-destinationrules', { waitForControllers: false });
  cp = env.cp;
  const agent = new KubeConfig();
  agent.loadFromFile(await agentIdentity(cp));
  expect(agent.getCurrentUser()?.token, 'the source authenticates with the ServiceAccount token').toBeTruthy();
  await kubectl(['create', 'namespace', NS]);
  source = new KubernetesSource({
    kubeConfig: agent,
    backoff: { initialMs: 200, maxMs: 1_000, jitter: 0 },
    optionalKindCheckMs: CHECK_MS,
    log,
  });
  source.onChange((changes) => batches.push(changes));
  await source.start();
}, 180_000);

afterAll(async () => {
  try {
    await ifSetUp(source)?.stop();
  } finally {
    await ifSetUp(env)?.stop();
  }
}, 60_000);

describe('DestinationRules on a real API server, as the agent', () => {
  it('without the CRD: syncs, no error, and says once that DestinationRules are not served', async () => {
    await eventually(
      'the initial sync',
      () => source.status(),
      (s) => s.synced,
      30_000,
    );
    // Several discovery checks go by without another word.
    await new Promise((resolve) => setTimeout(resolve, CHECK_MS * 4));
    expect(source.status().message).toBeUndefined();
    expect(source.kindStatus().map((k) => k.kind)).not.toContain('DestinationRule');
    expect(logLines).toEqual([`info: DestinationRules not served; checking again every 0 s`]);
  });

  it('once the CRD is applied: picks the kind up and names a rule, a v1beta1 one read at v1', async () => {
    await kubectl(['apply', '-f', CRD]);
    await kubectl(['wait', '--for=condition=Established', `crd/${CRD_NAME}`, '--timeout=30s']);
    const from = batches.length;
    await kubectl(
      ['apply', '-n', NS, '-f', '-'],
      JSON.stringify({
        apiVersion: 'networking.istio.io/v1beta1',
        kind: 'DestinationRule',
        metadata: { name: 'web-failover' },
        spec: {
          host: 'web',
          trafficPolicy: {
            loadBalancer: { simple: 'ROUND_ROBIN', localityLbSetting: { enabled: true, failover: [{ from: 'az01', to: 'az02' }] } },
          },
        },
      }),
    );
    const [rule] = await eventually('the rule in the source', rules, (held) => held.length === 1);
    expect(rule).toMatchObject({
      apiVersion: 'networking.istio.io/v1',
      metadata: { name: 'web-failover', namespace: NS },
      spec: { host: 'web', trafficPolicy: { loadBalancer: { localityLbSetting: { failover: [{ from: 'az01', to: 'az02' }] } } } },
    });
    expect(source.status()).toMatchObject({ synced: true });
    expect(source.kindStatus().find((k) => k.kind === 'DestinationRule')).toMatchObject({ synced: true });

    // A change is named, as for the other kinds, so the reconciler re-plans what depends on it.
    const before = batches.length;
    await kubectl([
      'patch',
      '-n',
      NS,
      'destinationrules.networking.istio.io',
      'web-failover',
      '--type=merge',
      '-p',
      '{"spec":{"host":"web2"}}',
    ]);
    await eventually(
      'the patch named',
      () => batches.slice(before).flatMap((b) => b ?? []),
      (changes) => changes.some((c) => c.kind === 'DestinationRule' && c.name === `${NS}/web-failover`),
    );
    expect(batches.length).toBeGreaterThan(from);
    expect(logLines).toContain('info: DestinationRules served; watching them');
  });

  it('when the CRD is deleted: the rules leave the source, which stays synced', async () => {
    await kubectl(['delete', 'crd', CRD_NAME, '--wait=true', '--timeout=60s']);
    await eventually('no rules in the source', rules, (held) => held.length === 0, 30_000);
    // Deleting a CRD deletes its objects first (watched as deletions); discovery then drops the kind.
    await eventually(
      'the kind dropped',
      () => source.kindStatus().map((k) => k.kind),
      (kinds) => !kinds.includes('DestinationRule'),
    );
    expect(source.status().synced).toBe(true);
    expect(source.status().message).toBeUndefined();
    expect(logLines.filter((line) => line.includes('not served'))).toHaveLength(2);
  });
});
