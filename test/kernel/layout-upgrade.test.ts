// An agent whose map layout differs from the pinned one (a future upgrade, rehearsed here with a
// deliberately bumped layout version) builds its maps beside the pinned ones, fills them, then
// swaps its programs into the pinned links and only then drops the old maps: a client connecting
// in a loop the whole time never sees a failed connect, and the node ends with one set of pins.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Datapath, Heartbeat, LAYOUT_VERSION, MAP_NAMES, PIN_DIRS, readControl } from '../../pkg/datapath/index.js';
import type { Client } from '../../lab/kernel-lab/index.js';
import { be, kernelNode, type KernelNode, SMALL_SIZES, svc, tally } from './datapath-fixture.js';
import { ifSetUp } from '../fixtures/if-set-up.js';

const VIP = '10.96.8.10';
const OLD_POD = '10.244.8.10';
const NEW_POD = '10.244.8.20';
const BUMPED = LAYOUT_VERSION + 1;

let k: KernelNode;
let client: Client;

beforeAll(async () => {
  k = await kernelNode('layout');
  await k.lab.addPod('pod-old', [OLD_POD], [{ port: 8080, proto: 'tcp' }]);
  await k.lab.addPod('pod-new', [NEW_POD], [{ port: 8080, proto: 'tcp' }]);
  client = await k.node.client();
});

afterAll(async () => {
  await ifSetUp(client)?.close();
  await ifSetUp(k)?.destroy();
});

const sleep = (ms: number): Promise<void> => new Promise((res) => setTimeout(res, ms));

describe('pinned layout versions', () => {
  it('replaces maps of another layout under a connect loop with zero failed connects', async () => {
    k.dp.writer.apply(svc(VIP, 80, 'RANDOM', [[be(OLD_POD)]]));
    // What an agent of this layout leaves: its version in the control row (its heartbeat).
    new Heartbeat(k.dp.loaded.control, 0).beat();
    expect(readControl(k.dp.loaded.control)?.layout).toBe(LAYOUT_VERSION);

    const loop = await client.loop({ address: VIP, port: 80, proto: 'tcp', durationMs: 3000, maxCount: 100_000 });
    await sleep(300);
    // The old agent goes; the new one, of another layout, starts.
    k.dp.close();
    const next = Datapath.open({ pinRoot: k.node.pinRoot, cgroupPath: k.node.cgroupPath, sizes: SMALL_SIZES, layoutVersion: BUMPED });
    k.dp = next;
    expect(next.loaded.report.upgradingFrom).toBe(LAYOUT_VERSION);
    expect(next.loaded.report.reusedMaps).toEqual([]);
    expect([...next.writer.keys()]).toEqual([]);
    new Heartbeat(next.loaded.control, 0, undefined, next.loaded.layout).beat();
    // Its first pass fills the new maps while the old programs still serve from the old ones.
    next.writer.apply(svc(VIP, 80, 'RANDOM', [[be(NEW_POD)]]));
    await sleep(500);
    expect(tally(await client.connect({ address: VIP, port: 80, proto: 'tcp', count: 3 }))).toEqual({ 'pod-old': 3 });
    next.loaded.finishUpgrade();
    expect(tally(await client.connect({ address: VIP, port: 80, proto: 'tcp', count: 3 }))).toEqual({ 'pod-new': 3 });
    const results = await loop.finished();

    const counts = tally(results);
    expect(Object.keys(counts).sort()).toEqual(['pod-new', 'pod-old']);
    expect(counts['pod-new']! + counts['pod-old']!).toBe(results.length);

    // One set of pins, of the new layout, that the next start of the same layout reuses.
    expect(existsSync(join(k.node.pinRoot, PIN_DIRS.staging))).toBe(false);
    expect(readdirSync(join(k.node.pinRoot, PIN_DIRS.maps)).sort()).toEqual([...MAP_NAMES].sort());
    k.dp.close();
    k.dp = Datapath.open({ pinRoot: k.node.pinRoot, cgroupPath: k.node.cgroupPath, sizes: SMALL_SIZES, layoutVersion: BUMPED });
    expect(k.dp.loaded.report.upgradingFrom).toBeUndefined();
    expect(k.dp.loaded.report.reusedMaps).toContain('services');
    expect(readControl(k.dp.loaded.control)?.layout).toBe(BUMPED);
    expect(tally(await client.connect({ address: VIP, port: 80, proto: 'tcp', count: 3 }))).toEqual({ 'pod-new': 3 });
  });
});
