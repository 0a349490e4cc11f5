// The image, as far as a machine without a container engine can check it: the Dockerfile builds
// with the target CI runs and ships only what the agent needs at run time, and `make image`
// builds it with whatever engine answers, tagged as deploy/ references it, or says plainly that
// there is none (and fails, since it could not do its job).
import { execFile } from 'node:child_process';
import { accessSync, chmodSync, constants, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ROOT } from '../../fixtures/deploy-render.js';
import { dockerStages as stages } from '../../fixtures/dockerfile.js';

const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');
const VERSION = (JSON.parse(read('package.json')) as { version: string }).version;
const IMAGE = `ghcr.io/nearby-lb/nearby-agent:${VERSION}`;

const aptPackages = (lines: readonly string[]): string[] =>
  lines.flatMap(
    (l) =>
      /apt-get install (?:-\S+ )*(.*?)(?: &&|$)/
        .exec(l)?.[1]
        ?.split(' ')
        .filter((p) => p && !p.startsWith('-')) ?? [],
  );

describe('the Dockerfile', () => {
  const [build, runtime, ...more] = stages(read('Dockerfile'));

  it('has a build stage and a runtime stage', () => {
    expect(more).toEqual([]);
    expect(build?.from).toMatch(/^FROM node:20-\S+ AS build$/);
    expect(runtime?.from).toMatch(/^FROM node:20-\S*slim$/);
  });

  it('builds with `make product`, the product part of what CI builds, after npm ci, and keeps production dependencies only', () => {
    expect(build!.lines).toContain('RUN npm ci --no-audit --no-fund --workspaces=false');
    expect(build!.lines).toContain('RUN make product && npm prune --omit=dev --workspaces=false');
    expect(read('.ci/run')).toMatch(/^make test$/m);
    expect(read('Makefile')).toMatch(/^test: build\b/m);
  });

  it("installs the Makefile's APT_PKGS in the build stage, so `make apt` has nothing to install", () => {
    const wanted = /^APT_PKGS := (.*)$/m.exec(read('Makefile'))![1]!.split(/\s+/);
    expect(aptPackages(build!.lines)).toEqual(expect.arrayContaining([...wanted, 'make']));
  });

  it('ships Node, libbpf1, the compiled JS, the BPF object and node_modules, and no compiler', () => {
    expect(aptPackages(runtime!.lines)).toEqual(['libbpf1']);
    const copies = runtime!.lines.filter((l) => l.startsWith('COPY'));
    expect(copies).toEqual(
      expect.arrayContaining([
        'COPY --from=build /src/node_modules ./node_modules',
        'COPY --from=build /src/dist ./dist',
        'COPY --from=build /src/build/bpf ./build/bpf',
      ]),
    );
    expect(runtime!.lines.join('\n')).not.toMatch(/\b(clang|llvm|gcc|g\+\+|make|libbpf-dev|build-essential)\b/);
    expect(runtime!.lines).toContain('ENTRYPOINT ["node", "dist/cmd/agent.js"]');
  });

  it('runs Node with the V8 flags and malloc arenas the benchmark measured the memory limit with', () => {
    const bench =
      /^\tMALLOC_ARENA_MAX=(\d+) node (--max-old-space-size=\d+ --max-semi-space-size=\d+) dist\/test\/bench\/control-plane\.js$/m.exec(
        read('Makefile'),
      );
    expect(bench).not.toBeNull();
    expect(runtime!.lines).toContain(`ENV NODE_OPTIONS="${bench![2]}"`);
    expect(runtime!.lines).toContain(`ENV MALLOC_ARENA_MAX=${bench![1]}`);
    // npm run bench:control runs the same as make bench.
    const script = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts['bench:control'];
    expect(script).toContain(`MALLOC_ARENA_MAX=${bench![1]} node ${bench![2]} dist/test/bench/control-plane.js`);
  });

  it('keeps what the host built out of the build context', () => {
    const ignored = read('.dockerignore')
      .split('\n')
      .map((l) => l.trim());
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', 'dist', 'build', '.git']));
  });

  it("is tagged as deploy/'s kustomization references the image", () => {
    const kustomization = parse(read('deploy/kustomization.yaml')) as { images: Array<{ name: string; newName: string; newTag: string }> };
    expect(kustomization.images).toEqual([{ name: 'nearby-agent', newName: 'ghcr.io/nearby-lb/nearby-agent', newTag: VERSION }]);
  });
});

describe('make image', () => {
  let dir: string;
  let tools: string;
  let make: string;

  /** A tool's path on the test's own PATH; the runs below get a PATH without it. */
  const onPath = (name: string): string => {
    for (const d of (process.env['PATH'] ?? '').split(delimiter).filter(Boolean)) {
      try {
        accessSync(join(d, name), constants.X_OK);
        return join(d, name);
      } catch {
        // not here
      }
    }
    throw new Error(`\`${name}\` is not on PATH; this test runs it`);
  };

  /** Runs `make image` with only the given engine stand-ins (and the tools the Makefile itself runs) on PATH. */
  function makeImage(engines: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
    const bin = mkdtempSync(join(dir, 'bin-'));
    for (const [name, script] of Object.entries(engines)) {
      writeFileSync(join(bin, name), `#!/bin/bash\n${script}\n`);
      chmodSync(join(bin, name), 0o755);
    }
    return new Promise((res) => {
      execFile(
        make,
        ['-s', '--no-print-directory', '-C', ROOT, 'image'],
        { env: { PATH: `${bin}:${tools}`, HOME: dir }, encoding: 'utf8' },
        (error, stdout, stderr) => res({ code: error ? ((error as { code?: number }).code ?? -1) : 0, stdout, stderr }),
      );
    });
  }

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'nearby-make-image-'));
    tools = join(dir, 'tools');
    mkdirSync(tools);
    // What the Makefile's own $(shell ...) lines run.
    for (const tool of ['sed', 'uname']) symlinkSync(onPath(tool), join(tools, tool));
    make = onPath('make');
  });

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('says that no container engine is installed, and fails', async () => {
    const r = await makeImage({});
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(
      /^error: make image needs a working container engine and there is none here; none of docker, podman, nerdctl, buildah is installed\.$/m,
    );
  });

  it('says that an installed engine does not answer, and fails', async () => {
    const r = await makeImage({ docker: 'echo "Cannot connect to the Docker daemon" >&2; exit 1' });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/docker \(installed, but `docker info` fails: no daemon\/engine answers\)/);
  });

  it('builds the image with the first engine that answers, tagged with the version', async () => {
    const r = await makeImage({
      docker: 'exit 1',
      podman: `case "$1" in info) exit 0;; build) echo "podman $*"; exit 0;; esac; exit 3`,
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual([`>> podman build -t ${IMAGE} .`, `podman build -t ${IMAGE} .`]);
  });

  it("takes make images' no-registry route with buildah, never buildah's own pull", async () => {
    // The stand-in answers `info` and fails anything else: the build must go through the script,
    // which here stops at its first check (this PATH has neither id nor mmdebstrap).
    const r = await makeImage({ buildah: `case "$1" in info) exit 0;; esac; echo "buildah $*" >&2; exit 3` });
    expect(r.code).not.toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual(['>> buildah: test/images/build.sh agent (Debian bases made here, nothing pulled)']);
    expect(r.stderr).toMatch(/^images: error: /m);
    expect(r.stderr).not.toMatch(/^buildah /m);
  });
});
