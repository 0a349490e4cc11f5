// docs/nearbyctl.md against the CLI itself: it carries the real usage texts word for word, has a
// section for every command they list, and describes every flag they name outside those blocks.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { runNearbyctl } from '../../../cmd/ctl/run.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const doc = readFileSync(join(ROOT, 'docs/nearbyctl.md'), 'utf8');
/** The page without its fenced blocks: where a flag must be described, not only listed. */
const prose = doc.replace(/```[\s\S]*?```/g, '');
const headings = doc
  .split('\n')
  .filter((l) => l.startsWith('#'))
  .map((l) => l.replace(/^#+\s*/, ''));

let usage: string;
let labUsage: string;

async function help(argv: string[]): Promise<string> {
  const out: string[] = [];
  const code = await runNearbyctl(argv, { out: (t) => out.push(t), err: (t) => out.push(t) }, {});
  expect(code).toBe(0);
  return out.join('\n');
}

beforeAll(async () => {
  usage = await help(['--help']);
  labUsage = await help(['lab', '--help']);
});

/** Flags a usage text names: --long and -s. */
const flagsIn = (text: string): string[] => [...new Set([...text.matchAll(/(?:^|[\s[|(])(--?[a-zA-Z][a-zA-Z-]*)/g)].map((m) => m[1]!))];

describe('docs/nearbyctl.md', () => {
  it('shows both usage texts exactly as the CLI prints them', () => {
    expect(doc).toContain(`\`\`\`\n${usage}\n\`\`\``);
    expect(doc).toContain(`\`\`\`\n${labUsage}\n\`\`\``);
  });

  it('has a section for every command of the usage text', () => {
    const commands = [...usage.matchAll(/^ {2}nearbyctl ([a-z-]+)/gm)].map((m) => m[1]!);
    expect(commands).toEqual(['plan', 'explain', 'maps', 'uninstall', 'wait-cleanup', 'lab', 'demo', 'create-remote-secret']);
    for (const c of commands) expect(headings, c).toContain(`nearbyctl ${c}`);
  });

  it('has a section for every lab command', () => {
    const verbs = [...labUsage.matchAll(/^ {2}([a-z]+(?: (?:namespace|pods))?) /gm)].map((m) => m[1]!);
    expect(verbs.length).toBeGreaterThanOrEqual(10);
    for (const v of verbs) expect(headings, v).toContain(`lab ${v}`);
  });

  it('describes every flag the usage texts name', () => {
    const missing = [...flagsIn(usage), ...flagsIn(labUsage)].filter((f) => !prose.includes(`\`${f}`));
    expect(missing).toEqual([]);
  });
});
