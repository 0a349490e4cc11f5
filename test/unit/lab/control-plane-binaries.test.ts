// Finding the control-plane binaries: the order (override, KUBEBUILDER_ASSETS/PATH, cache), the
// version rule, the error that tells the user to run `make control-plane`, and the current.json
// contract between test/control-plane/build.sh and lab/control-plane/binaries.ts.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  CONTROL_PLANE_BINARIES,
  ControlPlaneBinariesMissingError,
  resolveControlPlaneBinaries,
  type ControlPlaneBinary,
} from '../../../lab/control-plane/binaries.js';
import { LabError } from '../../../lab/errors.js';
import { PROJECT_ROOT } from '../../../lab/programs.js';
import { readPinnedVersions } from '../../../lab/control-plane/versions.js';

const pinned = readPinnedVersions();
let scratch: string;

beforeEach(() => {
  scratch = mkdtempSync(join(tmpdir(), 'nearby-cp-binaries-'));
});
afterEach(() => {
  rmSync(scratch, { recursive: true, force: true });
});

/** A stand-in binary that answers its version query the way the real one does. */
function fakeBinary(dir: string, name: ControlPlaneBinary, version: string): string {
  mkdirSync(dir, { recursive: true });
  const text =
    name === 'etcd'
      ? `etcd Version: ${version}\nGit SHA: fake\n`
      : name === 'kubectl'
        ? `Client Version: ${version}\nKustomize Version: v5.0.0\n`
        : `Kubernetes ${version}\n`;
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\nprintf '%s' '${text}'\n`);
  chmodSync(path, 0o755);
  return path;
}

function fakeSet(dir: string, versions: Partial<Record<ControlPlaneBinary, string>> = {}): void {
  for (const name of CONTROL_PLANE_BINARIES) {
    fakeBinary(dir, name, versions[name] ?? (name === 'etcd' ? pinned.etcd : pinned.kubernetes));
  }
}

function envWith(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { HOME: scratch, NEARBY_CACHE: join(scratch, 'cache'), PATH: join(scratch, 'empty'), ...extra };
}

function caught(run: () => unknown): ControlPlaneBinariesMissingError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ControlPlaneBinariesMissingError);
    return error as ControlPlaneBinariesMissingError;
  }
  throw new Error('expected resolveControlPlaneBinaries to throw');
}

describe('pinned versions', () => {
  it('pins one Kubernetes release of 1.34 or newer and an etcd 3.5 or newer', () => {
    const [, minor] = /^v1\.(\d+)\.\d+$/.exec(pinned.kubernetes) ?? [];
    expect(Number(minor)).toBeGreaterThanOrEqual(34);
    expect(pinned.etcd).toMatch(/^3\.([5-9]|\d\d)\.\d+$/);
  });
});

describe('resolveControlPlaneBinaries', () => {
  it('takes all five from PATH when they report the pinned release', () => {
    const bin = join(scratch, 'bin');
    fakeSet(bin, { etcd: '3.5.21' });
    const found = resolveControlPlaneBinaries({ env: envWith({ PATH: `${join(scratch, 'empty')}:${bin}` }) });
    expect(found).toMatchObject({ source: 'installed', version: pinned.kubernetes, etcdVersion: '3.5.21' });
    expect(found.kubeApiserver).toBe(join(bin, 'kube-apiserver'));
    expect(found.kubectl).toBe(join(bin, 'kubectl'));
  });

  it('prefers KUBEBUILDER_ASSETS over PATH for each binary', () => {
    const assets = join(scratch, 'assets');
    const bin = join(scratch, 'bin');
    fakeBinary(assets, 'etcd', pinned.etcd);
    fakeBinary(assets, 'kube-apiserver', pinned.kubernetes);
    fakeSet(bin);
    const found = resolveControlPlaneBinaries({ env: envWith({ PATH: bin, KUBEBUILDER_ASSETS: assets }) });
    expect(found.etcd).toBe(join(assets, 'etcd'));
    expect(found.kubeApiserver).toBe(join(assets, 'kube-apiserver'));
    expect(found.kubeScheduler).toBe(join(bin, 'kube-scheduler'));
  });

  it('refuses an installed binary of another release and names it', () => {
    const bin = join(scratch, 'bin');
    fakeSet(bin, { kubectl: 'v1.32.4', etcd: '3.4.30' });
    const error = caught(() => resolveControlPlaneBinaries({ env: envWith({ PATH: bin }) }));
    expect(error).toBeInstanceOf(LabError);
    expect(error.code).toBe('prereq');
    expect([...error.missing].sort()).toEqual(['etcd', 'kubectl']);
    expect(error.message).toContain(`${join(bin, 'kubectl')} reports v1.32.4, not ${pinned.kubernetes}`);
    expect(error.message).toContain('3.4.30');
    expect(error.message).toContain('make control-plane');
  });

  it('names all five and the cache it looked in when nothing is there', () => {
    const error = caught(() => resolveControlPlaneBinaries({ env: envWith({}) }));
    expect(error.missing).toEqual([...CONTROL_PLANE_BINARIES]);
    expect(error.message).toContain(join(scratch, 'cache', 'control-plane', 'current.json'));
  });

  it('falls back to the cache record when PATH has only some of them', () => {
    const built = join(scratch, 'cache', 'control-plane', pinned.kubernetes, 'bin');
    fakeSet(built);
    const path = join(scratch, 'path');
    fakeBinary(path, 'kubectl', 'v1.32.4');
    writeFileSync(
      join(scratch, 'cache', 'control-plane', 'current.json'),
      JSON.stringify({
        version: pinned.kubernetes,
        etcdVersion: pinned.etcd,
        source: 'cache',
        binDir: built,
        etcd: join(built, 'etcd'),
        kubeApiserver: join(built, 'kube-apiserver'),
        kubeControllerManager: join(built, 'kube-controller-manager'),
        kubeScheduler: join(built, 'kube-scheduler'),
        kubectl: join(built, 'kubectl'),
      }),
    );
    const found = resolveControlPlaneBinaries({ env: envWith({ PATH: path }) });
    expect(found).toMatchObject({ source: 'cache', etcdVersion: pinned.etcd, kubectl: join(built, 'kubectl') });
  });

  it('refuses a cache record of another release', () => {
    const dir = join(scratch, 'cache', 'control-plane');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'current.json'), JSON.stringify({ version: 'v1.30.0' }));
    const error = caught(() => resolveControlPlaneBinaries({ env: envWith({}) }));
    expect(error.message).toContain(`is for v1.30.0, not ${pinned.kubernetes}`);
  });

  it('takes NEARBY_CONTROL_PLANE_BIN as it is, and names what it lacks', () => {
    const dir = join(scratch, 'override');
    fakeSet(dir, { 'kube-apiserver': 'v1.99.0' });
    const found = resolveControlPlaneBinaries({ env: envWith({ NEARBY_CONTROL_PLANE_BIN: dir }) });
    expect(found).toMatchObject({ source: 'override', kubeApiserver: join(dir, 'kube-apiserver') });

    rmSync(join(dir, 'kube-scheduler'));
    const error = caught(() => resolveControlPlaneBinaries({ env: envWith({ NEARBY_CONTROL_PLANE_BIN: dir }) }));
    expect(error.missing).toEqual(['kube-scheduler']);
  });
});

describe('test/control-plane/build.sh with the binaries installed', () => {
  it('uses them without building, prints NAME=PATH lines and writes the record binaries.ts reads', () => {
    const bin = join(scratch, 'bin');
    fakeSet(bin);
    const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}`, NEARBY_CACHE: join(scratch, 'cache') };
    delete env.KUBEBUILDER_ASSETS;
    const out = execFileSync('bash', [join(PROJECT_ROOT, 'test/control-plane/build.sh')], { env, encoding: 'utf8' });
    expect(out.trim().split('\n')).toEqual(CONTROL_PLANE_BINARIES.map((name) => `${name}=${join(bin, name)}`));

    // With the fakes off PATH, only the record written above can supply them.
    const found = resolveControlPlaneBinaries({ env: envWith({}) });
    expect(found).toMatchObject({
      source: 'installed',
      version: pinned.kubernetes,
      etcdVersion: pinned.etcd,
      kubeControllerManager: join(bin, 'kube-controller-manager'),
    });
  });
});
