// The Makefile's demo targets and the README's first lines, which tell a newcomer what to run.
// `make demo` must show something at once on a fresh machine, so nothing it depends on, however
// indirectly, may build Kubernetes; the demos that need the real API server build it first.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const read = (file: string): string => readFileSync(join(ROOT, file), 'utf8');

interface Rule {
  prerequisites: string[];
  recipe: string[];
}

/** Explicit rules of a Makefile: `target: normal | order-only`, and their tab-indented recipe lines. */
function rulesOf(makefile: string): Map<string, Rule> {
  const rules = new Map<string, Rule>();
  let current: Rule | undefined;
  for (const line of makefile.split('\n')) {
    if (line.startsWith('\t')) {
      current?.recipe.push(line.trim());
      continue;
    }
    const rule = /^([A-Za-z0-9_./-]+):(?![:=])(.*)$/.exec(line);
    if (rule) {
      current = { prerequisites: rule[2]!.replace('|', ' ').split(/\s+/).filter(Boolean), recipe: [] };
      rules.set(rule[1]!, current);
    } else if (line.trim() !== '' && !line.startsWith('#')) {
      current = undefined;
    }
  }
  return rules;
}

/** Every target `target` waits for, directly or through other rules. */
function closure(rules: Map<string, Rule>, target: string): Set<string> {
  const seen = new Set<string>();
  const todo = [...(rules.get(target)?.prerequisites ?? [])];
  while (todo.length > 0) {
    const next = todo.pop()!;
    if (seen.has(next)) continue;
    seen.add(next);
    todo.push(...(rules.get(next)?.prerequisites ?? []));
  }
  return seen;
}

const rules = rulesOf(read('Makefile'));
const rule = (target: string): Rule => {
  const found = rules.get(target);
  expect(found, `Makefile has no rule for ${target}`).toBeDefined();
  return found!;
};

describe('the demo targets of the Makefile', () => {
  it('make demo builds no Kubernetes and runs the experiment on the lab’s own controllers', () => {
    const needs = closure(rules, 'demo');
    expect(needs).toContain('build');
    expect(needs).toContain('bpffs');
    expect([...needs].filter((t) => t === 'control-plane' || t === 'kube-proxy' || t === 'helm')).toEqual([]);
    expect(rule('demo').recipe).toEqual(['node dist/cmd/nearbyctl.js demo --files']);
  });

  it('make demo-cluster builds the control plane first and runs the experiment on it', () => {
    expect(rule('demo-cluster').prerequisites).toEqual(expect.arrayContaining(['build', 'bpffs', 'control-plane']));
    expect(rule('demo-cluster').recipe).toEqual(['node dist/cmd/nearbyctl.js demo']);
  });

  it('make demo-003 and demo-004 stay on the real control plane', () => {
    for (const target of ['demo-003', 'demo-004']) {
      expect(rule(target).prerequisites, target).toContain('control-plane');
      expect(rule(target).recipe.join('\n'), target).not.toContain('--files');
    }
  });

  it('declares every demo target phony', () => {
    const phony = rule('.PHONY').prerequisites;
    expect(phony).toEqual(expect.arrayContaining(['demo', 'demo-cluster', 'demo-003', 'demo-004', 'test']));
  });
});

describe("the README's first lines", () => {
  const readme = read('README.md');
  /** The first fenced block, which must come right after the title. */
  const first = /^# [^\n]+\n+```sh[^\n]*\n([\s\S]*?)\n```/.exec(readme);
  const commands = (first?.[1] ?? '').split('\n').map((line) => {
    const m = /^make ([a-z0-9-]+)\s+# (.+)$/.exec(line);
    return { line, target: m?.[1], comment: m?.[2] ?? '' };
  });
  const commentOf = (target: string): string => commands.find((c) => c.target === target)?.comment ?? '';
  /** A first-run duration such as "~1 min", "5 s" or "7-15 min". */
  const DURATION = /\d+(?:[-–]\d+)?\s*(?:s|min)\b/;

  it('open with a block of make commands, each a target of the Makefile', () => {
    expect(first, 'README.md must start with its title and then a ```sh block').not.toBeNull();
    for (const c of commands) {
      expect(c.target, `not a "make TARGET   # what it does" line: ${c.line}`).toBeDefined();
      expect(rules.has(c.target!), `make ${c.target} is not in the Makefile`).toBe(true);
    }
    expect(commands.map((c) => c.target)).toEqual(expect.arrayContaining(['demo', 'demo-cluster', 'demo-003', 'demo-004', 'test']));
    expect(commands[0]!.target).toBe('demo');
  });

  it('say which demo is which and how long each takes the first time', () => {
    expect(commentOf('demo')).toMatch(DURATION);
    expect(commentOf('demo')).toMatch(/no Kubernetes|without (?:building )?Kubernetes|builds no Kubernetes/i);
    expect(commentOf('demo-cluster')).toMatch(DURATION);
    expect(commentOf('demo-cluster')).toMatch(/API server|control plane/i);
  });
});
