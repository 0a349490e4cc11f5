// The file-backed lab refuses what an API server of the pinned release refuses, for the kinds it
// takes, naming the same field path, and accepts what it accepts.
import { describe, expect, it } from 'vitest';
import { parseDocuments } from '../../../lab/documents.js';
import { readApplied } from '../../../lab/objects.js';
import { BAD_OBJECTS, GOOD_OBJECTS } from '../../fixtures/api-bad-objects.js';
const escaped = (text: string): string => text.replace(/[.[\]]/g, '\\$&');

const read = (yaml: string): unknown => {
  const [doc] = parseDocuments(yaml, 'x.yaml');
  return readApplied(doc!.object, doc!.origin, 'sample');
};

describe('the lab validates like an API server', () => {
  it.each(BAD_OBJECTS)('refuses $what at $field', ({ yaml, field }) => {
    expect(() => read(yaml)).toThrow(new RegExp(`^x\\.yaml#1: (Service|Deployment|EndpointSlice) sample/[\\w-]+: ${escaped(field)}: `));
  });

  it.each(GOOD_OBJECTS)('accepts $what', ({ yaml }) => {
    expect(() => read(yaml)).not.toThrow();
  });
});
