/*
 * The shell blocks of the README and docs/, each with where it may run. The info string's second
 * word says it: ```sh lab``` runs, in document order, against the file-backed lab the README's
 * own lab block brings up (test/e2e/doc-commands.test.ts runs every one); ```sh cluster``` needs
 * a real Kubernetes cluster (kind, helm, kubectl, port-forward, kubectl exec) and ```sh host```
 * runs on the checkout itself (make targets): those two are not run by that test.
 * A shell block without one of these fails test/unit/docs/shell-blocks.test.ts.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const SHELL_LANGUAGES: readonly string[] = ['sh', 'bash', 'shell', 'console'];
export const SHELL_BLOCK_PLACES = ['lab', 'cluster', 'host'] as const;
export type ShellBlockPlace = (typeof SHELL_BLOCK_PLACES)[number];

export interface ShellBlock {
  /** Relative to the repository root. */
  readonly file: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
  /** The info string's second word, when it is one of SHELL_BLOCK_PLACES. */
  readonly place: ShellBlockPlace | undefined;
  /** The info string after the language, as written. */
  readonly marker: string;
  readonly text: string;
}

/** README.md, then docs/*.md by name: the order the lab blocks run in. */
export function documentedFiles(root: string): string[] {
  const docs = readdirSync(join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `docs/${f}`);
  return ['README.md', ...docs];
}

export function shellBlocksOf(root: string, file: string): ShellBlock[] {
  const lines = readFileSync(join(root, file), 'utf8').split('\n');
  const blocks: ShellBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)```(\S*)\s*(.*)$/.exec(lines[i]!);
    if (!open) continue;
    const [, indent, language, marker] = open;
    let end = i + 1;
    while (end < lines.length && !/^\s*```\s*$/.test(lines[end]!)) end++;
    if (SHELL_LANGUAGES.includes(language!)) {
      const word = marker!.trim().split(/\s+/)[0] ?? '';
      const place = (SHELL_BLOCK_PLACES as readonly string[]).includes(word) ? (word as ShellBlockPlace) : undefined;
      const text = lines
        .slice(i + 1, end)
        .map((l) => (l.startsWith(indent!) ? l.slice(indent!.length) : l))
        .join('\n');
      blocks.push({ file, line: i + 1, place, marker: marker!.trim(), text });
    }
    i = end;
  }
  return blocks;
}

export function allShellBlocks(root: string): ShellBlock[] {
  return documentedFiles(root).flatMap((f) => shellBlocksOf(root, f));
}

/** What to run of a block: a transcript's `$ ` lines (its other lines are output), else the block as written. */
export function commandsOf(block: ShellBlock): string {
  const lines = block.text.split('\n');
  if (!lines.some((l) => l.startsWith('$ '))) return block.text;
  return lines
    .filter((l) => l.startsWith('$ '))
    .map((l) => l.slice(2))
    .join('\n');
}
