// The lab is a package of its own (lab/, @nearby/lab): it reaches the product only through the
// product packages' public faces (pkg/<name>/index.ts), and the product never reaches the lab or
// the tests. Checked on every import the TypeScript parser finds (static, re-exports, literal
// dynamic imports), and on what the lab's own tsconfig compiles.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../fixtures/deploy-render.js';

function sourcesUnder(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts'))
    .map((e) => relative(ROOT, join(e.parentPath, e.name)))
    .filter((f) => !f.split(sep).includes('node_modules'));
}

function importsOf(text: string): string[] {
  return ts.preProcessFile(text, true, true).importedFiles.map((f) => f.fileName);
}

/** The repository path a relative specifier of `file` names (the .ts behind a .js specifier). */
function target(file: string, specifier: string): string {
  return relative(ROOT, resolve(ROOT, dirname(file), specifier)).replace(/\.js$/, '.ts');
}

const PUBLIC_FACE = /^pkg\/[a-z0-9-]+\/index\.ts$/;
const builtins = new Set(builtinModules);
const labPackage = JSON.parse(readFileSync(join(ROOT, 'lab/package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies?: Record<string, string>;
};
const labDependencies = new Set([...Object.keys(labPackage.dependencies), ...Object.keys(labPackage.devDependencies ?? {})]);

/** What a lab file may not import, one line each. */
function labViolations(file: string, specifiers: readonly string[]): string[] {
  return specifiers.flatMap((s) => {
    if (s.startsWith('.')) {
      const to = target(file, s);
      if (to.startsWith(`lab${sep}`)) return [];
      if (PUBLIC_FACE.test(to) && existsSync(join(ROOT, to))) return [];
      return [`${file}: ${s} (${to}) is not the lab's own nor a product package's index.ts`];
    }
    const name = s.startsWith('@') ? s.split('/').slice(0, 2).join('/') : s.split('/')[0]!;
    if (s.startsWith('node:') || builtins.has(s) || labDependencies.has(name)) return [];
    return [`${file}: ${s} is not a dependency in lab/package.json`];
  });
}

/** What a product file may not import: the lab or the tests. */
function productViolations(file: string, specifiers: readonly string[]): string[] {
  return specifiers.flatMap((s) => {
    if (s.startsWith('.')) {
      const to = target(file, s);
      return to.startsWith(`lab${sep}`) || to.startsWith(`test${sep}`) ? [`${file}: ${s} (${to}) is lab or test code`] : [];
    }
    return s === '@nearby/lab' || s.startsWith('@nearby/lab/') ? [`${file}: ${s} is the lab package`] : [];
  });
}

describe('the lab package boundary', () => {
  const labFiles = sourcesUnder('lab');

  it('has the lab package and its sources', () => {
    expect(labFiles.length).toBeGreaterThan(50);
    expect(labFiles).toContain(join('lab', 'index.ts'));
  });

  it('the lab imports the product through pkg/<name>/index.ts only, and packages it declares', () => {
    const found = labFiles.flatMap((f) => labViolations(f, importsOf(readFileSync(join(ROOT, f), 'utf8'))));
    expect(found).toEqual([]);
  });

  it('the product (cmd/, pkg/) never imports the lab or the tests', () => {
    const found = [...sourcesUnder('cmd'), ...sourcesUnder('pkg')].flatMap((f) =>
      productViolations(f, importsOf(readFileSync(join(ROOT, f), 'utf8'))),
    );
    expect(found).toEqual([]);
  });

  it("the lab's tsconfig compiles the lab and product packages, never cmd/ or the tests", () => {
    const listed = execFileSync(
      process.execPath,
      [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'lab/tsconfig.json'), '--listFilesOnly'],
      { encoding: 'utf8' },
    );
    const tops = new Set(
      listed
        .split('\n')
        .filter((f) => f.startsWith(ROOT) && !f.includes('/node_modules/'))
        .map((f) => relative(ROOT, f).split(sep)[0]),
    );
    expect([...tops].sort()).toEqual(['lab', 'pkg']);
  });

  it('catches each kind of crossing', () => {
    const lab = importsOf(`
      import { plan } from '../pkg/planner/index.js';
      import { buildSnapshot } from '../pkg/model/from-k8s.js';
      import { runNearbyctl } from '../cmd/ctl/run.js';
      export { ROOT } from '../test/fixtures/deploy-render.js';
      const later = () => import('../pkg/datapath/pinned.js');
      import leftPad from 'left-pad';
      import { join } from 'node:path';
    `);
    expect(labViolations(join('lab', 'x.ts'), lab)).toHaveLength(5);
    const product = importsOf(
      `import { labUp } from '../../lab/index.js';\nimport '../../test/fixtures/manifests.js';\nconst c = () => import('@nearby/lab');`,
    );
    expect(productViolations(join('cmd', 'ctl', 'x.ts'), product)).toHaveLength(3);
  });
});
