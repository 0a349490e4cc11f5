// Fail-open when the agent is gone (docs/concepts.md): once the heartbeat in the pinned control
// map is older than --fail-open-after, a connect to a Service VIP is no longer rewritten, so it
// reaches whatever else serves the VIP (here a stand-in for kube-proxy that owns the VIP inside
// the lab's netns; without it the connect fails as unreachable, and the netns has no way out).
// A Service nearby claims exclusively keeps being rewritten, a restart shorter than the bound
// never trips it, and with no bound (the default) nothing ever fails open.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ClaimingWriter,
  controlCodec,
  Heartbeat,
  LAYOUT_VERSION,
  monotonicNs,
  readControl,
  type ServiceSpec,
} from '../../pkg/datapath/index.js';
import type { Client } from '../../lab/kernel-lab/index.js';
import { be, kernelNode, type KernelNode, svc, tally } from './datapath-fixture.js';
import { ifSetUp } from '../fixtures/if-set-up.js';

const SHARED_VIP = '10.96.7.10'; // kube-proxy serves it too
const CLAIMED_VIP = '10.96.7.20'; // labelled with nearby's service-proxy-name
const POD = '10.244.7.10';
const STAND_IN = 'kube-proxy';
const MS = 1_000_000n;

let k: KernelNode;
let client: Client;
let heartbeat: Heartbeat | undefined;

const shared: ServiceSpec = svc(SHARED_VIP, 80, 'RANDOM', [[be(POD)]]);
const claimed: ServiceSpec = { ...svc(CLAIMED_VIP, 80, 'RANDOM', [[be(POD)]]), exclusive: true };

function program(): void {
  new ClaimingWriter(k.dp.writer, k.dp.loaded.maps.claims).applyMany([shared, claimed]);
}

function beat(boundMs: number): Heartbeat {
  heartbeat?.stop();
  heartbeat = new Heartbeat(k.dp.loaded.control, boundMs);
  heartbeat.start();
  return heartbeat;
}

async function answers(address: string, count = 5): Promise<Record<string, number>> {
  return tally(await client.connect({ address, port: 80, proto: 'tcp', count }));
}

beforeAll(async () => {
  k = await kernelNode('failopen');
  await k.lab.addPod('pod-a', [POD], [{ port: 8080, proto: 'tcp' }]);
  await k.lab.addPod(STAND_IN, [SHARED_VIP, CLAIMED_VIP], [{ port: 80, proto: 'tcp' }]);
  client = await k.node.client();
  program();
});

afterAll(async () => {
  heartbeat?.stop();
  await ifSetUp(client)?.close();
  await ifSetUp(k)?.destroy();
});

describe('fail-open', () => {
  it('without a bound (the default) never fails open, however old the heartbeat', async () => {
    heartbeat?.stop();
    k.dp.loaded.control.update(Buffer.alloc(4), controlCodec.encode({ heartbeatNs: 1n, failOpenNs: 0n, layout: LAYOUT_VERSION }));
    expect(await answers(SHARED_VIP)).toEqual({ 'pod-a': 5 });
  });

  it('the kernel fails open exactly past the bound, and not for a Service nearby claims', async () => {
    heartbeat?.stop();
    const write = (ageMs: bigint): void =>
      k.dp.loaded.control.update(
        Buffer.alloc(4),
        controlCodec.encode({ heartbeatNs: monotonicNs() - ageMs * MS, failOpenNs: 60_000n * MS, layout: LAYOUT_VERSION }),
      );
    write(50_000n); // 10 s inside the bound, far more than the connects take
    expect(await answers(SHARED_VIP)).toEqual({ 'pod-a': 5 });
    write(61_000n);
    expect(await answers(SHARED_VIP)).toEqual({ [STAND_IN]: 5 });
    expect(await answers(CLAIMED_VIP)).toEqual({ 'pod-a': 5 });
  });

  it('takes effect within the bound once the heartbeat stops, and ends when it resumes', async () => {
    const boundMs = 1000;
    beat(boundMs);
    expect(await answers(SHARED_VIP)).toEqual({ 'pod-a': 5 });
    heartbeat!.stop();
    const last = readControl(k.dp.loaded.control)!.heartbeatNs;
    const deadline = last + BigInt(boundMs) * MS;
    const seen: Array<{ before: bigint; after: bigint; answer: string }> = [];
    while (monotonicNs() < deadline + 3000n * MS) {
      const before = monotonicNs();
      const [r] = await client.connect({ address: SHARED_VIP, port: 80, proto: 'tcp', count: 1 });
      seen.push({ before, after: monotonicNs(), answer: r!.ok ? r!.answer! : `!${r!.errno}` });
      if (r!.answer === STAND_IN) break;
      await new Promise((res) => setTimeout(res, 20));
    }
    // Every connect made wholly inside the bound was rewritten; the first one past it was not.
    expect(seen.filter((s) => s.after <= deadline).every((s) => s.answer === 'pod-a')).toBe(true);
    expect(seen.filter((s) => s.after <= deadline).length).toBeGreaterThan(0);
    const first = seen.find((s) => s.answer !== 'pod-a');
    expect(first?.answer).toBe(STAND_IN);
    expect(first!.after > deadline).toBe(true);
    expect(await answers(CLAIMED_VIP)).toEqual({ 'pod-a': 5 });

    beat(boundMs);
    expect(await answers(SHARED_VIP)).toEqual({ 'pod-a': 5 });
  });

  it('an agent restart shorter than the bound, under a connect loop, never trips it', async () => {
    // The gap is the last renewal's age (up to a quarter of the bound), loading the object again
    // (a second or more on a busy machine) and the pause: well inside 5 s.
    const boundMs = 5000;
    beat(boundMs);
    const loop = await client.loop({ address: SHARED_VIP, port: 80, proto: 'tcp', durationMs: 4000, maxCount: 100_000 });
    await new Promise((res) => setTimeout(res, 300));
    // The agent goes: its handles close, the heartbeat stops. The next one opens the pins again
    // and renews the heartbeat first, as cmd/agent/run.ts does, 800 ms after that.
    heartbeat!.stop();
    k.reopen();
    await new Promise((res) => setTimeout(res, 800));
    beat(boundMs);
    program();
    const results = await loop.finished();
    expect(results.length).toBeGreaterThan(50);
    expect(tally(results)).toEqual({ 'pod-a': results.length });
  });
});
