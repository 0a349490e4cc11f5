// A shell block that ends in `grep -E 'PATTERN'` and is followed by an output block shows only
// lines that grep can print: the docs must not show output their command cannot produce.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const ROOT = new URL('../../../', import.meta.url);
const FILES = [
  'README.md',
  ...readdirSync(new URL('docs/', ROOT))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

interface Shown {
  readonly file: string;
  readonly pattern: string;
  readonly output: readonly string[];
}

function grepsWithOutput(file: string): Shown[] {
  const text = readFileSync(new URL(file, ROOT), 'utf8');
  const found: Shown[] = [];
  for (const m of text.matchAll(/```sh[^\n]*\n([\s\S]*?)```\s*\n```\n([\s\S]*?)```/g)) {
    const lastLine = m[1]!.trimEnd().split('\n').at(-1)!;
    const grep = /\| grep -E '([^']+)'$/.exec(lastLine);
    if (grep) found.push({ file, pattern: grep[1]!, output: m[2]!.trimEnd().split('\n') });
  }
  return found;
}

const SHOWN = FILES.flatMap(grepsWithOutput);

describe('documented grep output', () => {
  it('is found in the docs', () => {
    expect(SHOWN.length).toBeGreaterThan(0);
  });

  it.each(SHOWN)("$file: every line under grep -E '$pattern' matches it", ({ pattern, output }) => {
    const regex = new RegExp(pattern);
    expect(output.filter((line) => !regex.test(line))).toEqual([]);
  });
});
