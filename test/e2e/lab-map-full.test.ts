// A full map on a lab: `lab apply` of a Service that does not fit fails within seconds in one
// line that names the full map, the nodes and the Service it cost; `lab status` shows that
// Service as not programmed on each node instead of calling the node ready; the Services
// already programmed keep working; removing the big Service lets the lab settle again.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isLabError, type LabClient, type LabError, type LabRecord } from '../../lab/index.js';
import { statusText } from '../../lab/cli/lab-print.js';
import { curlAttempts, downExpectingNothingLeft, seedLab, upLabWithSleep } from './lab-fixture.js';
import { WIDE_SERVICE } from '../fixtures/wide-service.js';

const NAME = `e2e-full-${process.pid}`;
/** The seed needs a handful of services entries; the wide Service's 12 ports do not fit beside it. */
const SERVICES_MAP = 8;
let lab: LabClient;
let record: LabRecord | undefined;
let sleepPod: string;

beforeAll(async () => {
  ({ lab, record, sleepPod } = await upLabWithSleep({ text: seedLab(NAME), timeoutMs: 60_000, mapSizes: { services: SERVICES_MAP } }));
}, 90_000);

afterAll(async () => {
  await downExpectingNothingLeft(NAME, lab, record);
});

describe('a lab whose services map is full', () => {
  it('starts with every planned Service programmed, and says ready', async () => {
    const status = await lab.status();
    for (const node of status.nodes) expect(node.notProgrammed).toEqual([]);
    expect(statusText(status)).not.toContain('NOT PROGRAMMED');
  });

  it('fails the apply of a Service that does not fit in one line naming the map, the nodes and the Service', async () => {
    const started = Date.now();
    const error = await lab.apply({ text: WIDE_SERVICE }, { timeoutMs: 30_000 }).catch((e: unknown) => e);
    const elapsed = Date.now() - started;
    expect(isLabError(error)).toBe(true);
    const message = (error as LabError).message;
    expect(message).toMatch(/^the lab cannot settle: nodes? /);
    expect(message).toContain(`${NAME}-worker`);
    expect(message).toContain('(sample/wide)');
    expect(message).toContain('map "services" is full');
    expect(message).toContain(`--max-services ${SERVICES_MAP}`);
    expect(message).not.toContain('\n');
    expect(message.length).toBeLessThan(1_500);
    // Well before the 30 s deadline: the agents said they refused it.
    expect(elapsed).toBeLessThan(15_000);
    console.info(`full map reported after ${elapsed} ms: ${message}`);
  }, 40_000);

  it('shows the Service as not programmed per node, and keeps the programmed ones working', async () => {
    const status = await lab.status();
    for (const node of status.nodes) expect(node.notProgrammed).toEqual(['sample/wide']);
    expect(statusText(status)).toContain('NOT PROGRAMMED: 1 planned Service (sample/wide)');
    const attempts = await curlAttempts(lab, sleepPod, 'http://helloworld:5000/hello', 5, { maxTimeS: 2 });
    expect(attempts.map((a) => a.code)).toEqual([0, 0, 0, 0, 0]);
  });

  it('settles again once the Service is gone', async () => {
    await lab.delete('service', 'wide', { namespace: 'sample', timeoutMs: 30_000 });
    const status = await lab.status();
    for (const node of status.nodes) expect(node.notProgrammed).toEqual([]);
  }, 40_000);
});
