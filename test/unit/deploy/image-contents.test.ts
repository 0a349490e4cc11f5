// What the agent image holds, derived without a container engine: the runtime stage's COPY
// sources, with dist/ as the product build (tsconfig.build.json, through `make product`) emits it
// and node_modules/ as `npm prune --omit=dev --workspaces=false` leaves it (package-lock.json's
// production closure of the root package). No file of the lab package or of the tests may be in it.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../fixtures/deploy-render.js';
import { dockerCopies, dockerStages } from '../../fixtures/dockerfile.js';

const read = (file: string): string => readFileSync(join(ROOT, file), 'utf8');

interface LockEntry {
  readonly dev?: boolean;
  readonly link?: boolean;
  readonly resolved?: string;
  readonly dependencies?: Record<string, string>;
  readonly optionalDependencies?: Record<string, string>;
  readonly devDependencies?: Record<string, string>;
}

/** The packages a production install of the root package (workspaces left out) puts in node_modules/. */
function productionPackages(lock: { packages: Record<string, LockEntry> }): string[] {
  const found = new Set<string>();
  const resolve = (from: string, name: string): string | undefined => {
    for (let dir = from; ; dir = dir.slice(0, Math.max(0, dir.lastIndexOf('/node_modules/')))) {
      const path = `${dir ? `${dir}/` : ''}node_modules/${name}`;
      if (lock.packages[path]) return path;
      if (!dir) return undefined;
    }
  };
  const visit = (path: string): void => {
    const entry = lock.packages[path]!;
    for (const name of Object.keys({ ...entry.dependencies, ...entry.optionalDependencies })) {
      const target = resolve(path, name);
      if (target && !found.has(target)) {
        found.add(target);
        visit(target);
      }
    }
  };
  visit('');
  return [...found].sort();
}

/** The files the product tsconfig compiles, as the paths its build writes under dist/. */
function productBuildOutput(tsconfig: string): string[] {
  const listed = execFileSync(
    process.execPath,
    [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, tsconfig), '--listFilesOnly'],
    { encoding: 'utf8' },
  );
  return listed
    .split('\n')
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts') && !f.includes('/node_modules/'))
    .map((f) => `dist/${relative(ROOT, f).replace(/\.ts$/, '.js')}`)
    .sort();
}

/** Lab or test code: what the lab package or the tests are made of, or a package only they need (package-lock's dev entries). */
function labOrTestFiles(files: readonly string[], devPackages: readonly string[]): string[] {
  const dev = new Set(devPackages);
  return files.filter(
    (f) =>
      /^(dist\/)?(lab|test)\//.test(f) ||
      f.startsWith('node_modules/@nearby/') ||
      f.endsWith('.test.js') ||
      dev.has(f) ||
      [...dev].some((d) => f.startsWith(`${d}/`)),
  );
}

describe('the agent image', () => {
  const stages = dockerStages(read('Dockerfile'));
  const build = stages[0]!;
  const runtime = stages.at(-1)!;
  const copies = dockerCopies(runtime);
  const rootPackage = JSON.parse(read('package.json')) as { workspaces: string[] };
  const labPackage = JSON.parse(read('lab/package.json')) as { dependencies: Record<string, string> };
  const lock = JSON.parse(read('package-lock.json')) as { packages: Record<string, LockEntry> };
  const devPackages = Object.entries(lock.packages).flatMap(([path, entry]) => (entry.dev ? [path] : []));
  let files: string[] = [];

  beforeAll(() => {
    const makefile = read('Makefile');
    files = copies.flatMap(({ stage, sources }) =>
      sources.flatMap((source): string[] => {
        if (stage === undefined) return [source];
        expect(stage).toBe('build');
        switch (source) {
          case '/src/dist': {
            // dist/ is what the build stage's make target compiles, with the tsconfig that target names.
            const target = /^RUN make (\S+)/.exec(build.lines.find((l) => l.startsWith('RUN make ')) ?? '')?.[1];
            const recipe = new RegExp(`^${target}:.*\\n\\tnpx tsc -p (\\S+)$`, 'm').exec(makefile);
            expect(recipe, `the Makefile's ${target} target runs tsc`).not.toBeNull();
            return productBuildOutput(recipe![1]!);
          }
          case '/src/node_modules': {
            expect(build.lines.at(-1)).toMatch(/npm prune --omit=dev --workspaces=false$/);
            return productionPackages(lock);
          }
          case '/src/build/bpf':
            return [`build/bpf/${/^BPF_OBJ := \$\(BUILD\)\/bpf\/(\S+)$/m.exec(makefile)![1]}`];
          default:
            throw new Error(`the runtime stage copies ${source}, which this test does not know how to list`);
        }
      }),
    );
  }, 60_000);

  it('is listed from every COPY of the runtime stage', () => {
    expect(copies.map((c) => c.sources.join(' '))).toEqual(['/src/node_modules', '/src/dist', '/src/build/bpf', 'package.json']);
    expect(files).toEqual(
      expect.arrayContaining([
        'dist/cmd/agent.js',
        'dist/cmd/nearbyctl.js',
        'build/bpf/nearby.bpf.o',
        'package.json',
        'node_modules/koffi',
      ]),
    );
  });

  it('holds no lab or test file, and no package only the lab or the tests use', () => {
    expect(devPackages).toEqual(expect.arrayContaining(['node_modules/vitest', 'node_modules/tsx']));
    expect(labOrTestFiles(files, devPackages)).toEqual([]);
  });

  it('would be caught holding one', () => {
    const planted = [
      'dist/lab/supervisor-main.js',
      'dist/test/bench/control-plane.js',
      'node_modules/@nearby/lab',
      'node_modules/tsx',
      'node_modules/tsx/dist/loader.mjs',
    ];
    expect(labOrTestFiles(['dist/cmd/agent.js', 'node_modules/koffi', ...planted], devPackages)).toEqual(planted);
  });

  it('leaves the lab workspace out of the production install', () => {
    expect(rootPackage.workspaces).toEqual(['lab']);
    // Whatever the lab needs at run time is a product dependency already, so it is no reason to ship the lab.
    const product = productionPackages(lock);
    for (const name of Object.keys(labPackage.dependencies)) expect(product).toContain(`node_modules/${name}`);
  });
});
