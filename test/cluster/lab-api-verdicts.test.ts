// The file-backed lab and a real API server of the pinned release give the same verdict on the
// same objects, naming the same field: the table of test/fixtures/api-bad-objects.ts goes to both
// (the API server through `kubectl apply --dry-run=server`).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDocuments } from '../../lab/documents.js';
import { readApplied } from '../../lab/objects.js';
import { BAD_OBJECTS, GOOD_OBJECTS } from '../fixtures/api-bad-objects.js';
import { startTestControlPlane, type TestControlPlane } from './control-plane-fixture.js';

let env: TestControlPlane;

beforeAll(async () => {
  env = await startTestControlPlane('verdicts');
  const created = await env.cp.kubectl(['create', 'namespace', 'sample']);
  expect(created.code).toBe(0);
}, 120_000);

afterAll(async () => {
  await env.stop();
});

function labVerdict(yaml: string): string | undefined {
  try {
    const [doc] = parseDocuments(yaml, 'x.yaml');
    readApplied(doc!.object, doc!.origin, 'sample');
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

async function apiVerdict(yaml: string): Promise<string | undefined> {
  const result = await env.cp.kubectl(['apply', '--dry-run=server', '-f', '-'], yaml);
  return result.code === 0 ? undefined : result.stderr.trim();
}

describe('the lab and the API server agree', () => {
  it.each(BAD_OBJECTS)('both refuse $what, naming $field', async ({ yaml, field }) => {
    const api = await apiVerdict(yaml);
    const lab = labVerdict(yaml);
    expect(api).toContain(field);
    expect(lab).toContain(`: ${field}`);
  });

  it.each(GOOD_OBJECTS)('both accept $what', async ({ yaml }) => {
    expect(await apiVerdict(yaml)).toBeUndefined();
    expect(labVerdict(yaml)).toBeUndefined();
  });
});
