// The first step of issue 17: the pinned releases of the real nodes' components
// (test/control-plane/node.env) and the `make node-components` target that builds them, outside
// `make test` because nothing runs them yet.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../../lab/programs.js';

const controlPlaneDir = join(PROJECT_ROOT, 'test/control-plane');

/** KEY=value lines, as the build scripts' `source` reads them; anything else must be a comment. */
function readEnvFile(path: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    const match = /^([A-Z0-9_]+)=(\S+)$/.exec(line);
    if (!match) throw new Error(`${path}: not a KEY=value line: ${line}`);
    values.set(match[1]!, match[2]!);
  }
  return values;
}

/** The prerequisites of one Makefile target. */
function prerequisites(makefile: string, target: string): string[] {
  const match = new RegExp(`^${target}:(.*)$`, 'm').exec(makefile);
  if (!match) throw new Error(`no ${target} target`);
  return match[1]!.trim().split(/\s+/).filter(Boolean);
}

describe('node component pins', () => {
  const pins = readEnvFile(join(controlPlaneDir, 'node.env'));

  it('pins containerd 2.x, runc and the CNI plugins to stable releases', () => {
    expect([...pins.keys()].sort()).toEqual(['CNI_PLUGINS_VERSION', 'CONTAINERD_VERSION', 'RUNC_VERSION']);
    for (const version of pins.values()) expect(version).toMatch(/^v\d+\.\d+\.\d+$/);
    // Kubernetes 1.36's kubelet needs containerd 2.0 or later.
    expect(pins.get('CONTAINERD_VERSION')).toMatch(/^v2\./);
  });

  it('builds the kubelet of the control plane release, not a pin of its own', () => {
    expect(pins.has('K8S_VERSION')).toBe(false);
    expect(readEnvFile(join(controlPlaneDir, 'versions.env')).get('K8S_VERSION')).toMatch(/^v1\.\d+\.\d+$/);
  });
});

describe('make node-components', () => {
  const makefile = readFileSync(join(PROJECT_ROOT, 'Makefile'), 'utf8');

  it('runs build-node.sh and is not part of make test', () => {
    expect(makefile).toMatch(/^node-components:\n(\t.*\n)*\t@bash test\/control-plane\/build-node\.sh$/m);
    expect(makefile).toMatch(/^\.PHONY:.* node-components /m);
    expect(prerequisites(makefile, 'test')).not.toContain('node-components');
  });

  it('installs the libseccomp headers runc is built against, for this target only (not the image)', () => {
    expect(/^NODE_APT_PKGS := (.*)$/m.exec(makefile)?.[1]?.split(' ')).toContain('libseccomp-dev');
    expect(/^APT_PKGS := (.*)$/m.exec(makefile)?.[1]?.split(' ')).not.toContain('libseccomp-dev');
    expect(makefile).toMatch(/^node-components:\n(\t.*\n)*\t.*apt-get install -y -qq \$\(NODE_APT_PKGS\)/m);
  });

  it('has build scripts bash can parse', () => {
    for (const script of ['build-node.sh', 'build.sh', 'build-helm.sh', 'build-prometheus.sh', 'go-build-lib.sh']) {
      expect(() => execFileSync('bash', ['-n', join(controlPlaneDir, script)])).not.toThrow();
    }
  });
});
