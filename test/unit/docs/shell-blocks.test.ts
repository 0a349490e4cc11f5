// Every shell block in the README and docs/ says where it runs (issue 18): on the lab (and then
// test/e2e/doc-commands.test.ts runs it), on a real cluster, or on the checkout itself.
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../fixtures/deploy-render.js';
import { allShellBlocks, commandsOf, SHELL_BLOCK_PLACES, type ShellBlock } from '../../tools/docs/shell-blocks.js';

const blocks = allShellBlocks(ROOT);
const where = (b: ShellBlock): string => `${b.file}:${b.line}`;

describe('shell blocks of the README and docs/', () => {
  it('are found', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(25);
  });

  it(`each says where it runs: \`\`\`sh ${SHELL_BLOCK_PLACES.join('|')}`, () => {
    expect(blocks.filter((b) => b.place === undefined).map(where)).toEqual([]);
  });

  it('lab blocks need no real cluster; blocks that do are marked cluster', () => {
    const needsCluster = /(^|[|;&(]\s*)(kubectl|kind|helm)\s|port-forward/m;
    expect(blocks.filter((b) => b.place === 'lab' && needsCluster.test(commandsOf(b))).map(where)).toEqual([]);
  });

  it("the lab blocks start with the README's, which brings the lab up", () => {
    const lab = blocks.filter((b) => b.place === 'lab');
    expect(lab[0]?.file).toBe('README.md');
    expect(commandsOf(lab[0]!).split('\n')[0]).toMatch(/^nearbyctl lab up /);
    expect(lab.map(commandsOf).join('\n')).not.toMatch(/nearbyctl lab down/);
  });
});
