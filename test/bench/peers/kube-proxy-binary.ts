/*
 * Finds the kube-proxy the benchmarks run against nearby: the one `make kube-proxy`
 * (test/control-plane/build.sh kube-proxy) built into the cache, of the release pinned in
 * test/control-plane/versions.env, so it is the same release as the lab's control plane. Only
 * looks, never builds: a build takes a minute and must not start as a side effect of a test.
 *
 * Looked for in this order:
 *   1. NEARBY_CONTROL_PLANE_BIN/kube-proxy, taken as it is (set on purpose, like for the control plane).
 *   2. PATH, when it reports the pinned release.
 *   3. ${NEARBY_CACHE:-$HOME/.cache/nearby}/control-plane/kube-proxy.json, written by build.sh.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { controlPlaneCacheDir, isExecutable, readPinnedVersions } from '../../../lab/control-plane/index.js';
import { LabError } from '../../../lab/errors.js';

export interface KubeProxyBinary {
  readonly path: string;
  readonly version: string;
  readonly source: 'override' | 'installed' | 'cache';
}

function reportedVersion(path: string): string | undefined {
  try {
    const out = execFileSync(path, ['--version'], { encoding: 'utf8', timeout: 20_000, stdio: ['ignore', 'pipe', 'ignore'] });
    return /^Kubernetes *(\S+)/m.exec(out)?.[1];
  } catch {
    return undefined;
  }
}

export function resolveKubeProxyBinary(env: NodeJS.ProcessEnv = process.env): KubeProxyBinary {
  const pinned = readPinnedVersions().kubernetes;
  const reasons: string[] = [];
  if (env.NEARBY_CONTROL_PLANE_BIN) {
    const path = join(env.NEARBY_CONTROL_PLANE_BIN, 'kube-proxy');
    if (isExecutable(path)) return { path, version: pinned, source: 'override' };
    reasons.push(`NEARBY_CONTROL_PLANE_BIN=${env.NEARBY_CONTROL_PLANE_BIN} has no executable kube-proxy`);
  }
  const installed = (env.PATH ?? '')
    .split(delimiter)
    .filter((dir) => dir !== '')
    .map((dir) => join(dir, 'kube-proxy'))
    .find(isExecutable);
  if (installed) {
    const version = reportedVersion(installed);
    if (version === pinned) return { path: installed, version, source: 'installed' };
    reasons.push(`${installed} reports ${version ?? 'no version'}, not ${pinned}`);
  }
  const record = join(controlPlaneCacheDir(env), 'kube-proxy.json');
  try {
    const parsed = JSON.parse(readFileSync(record, 'utf8')) as { version?: unknown; kubeProxy?: unknown };
    if (parsed.version !== pinned) reasons.push(`${record} is for ${String(parsed.version)}, not ${pinned}`);
    else if (typeof parsed.kubeProxy !== 'string' || !isExecutable(parsed.kubeProxy))
      reasons.push(`${record} names no executable kube-proxy`);
    else return { path: parsed.kubeProxy, version: pinned, source: 'cache' };
  } catch {
    reasons.push(`no readable ${record}`);
  }
  throw new LabError(
    'prereq',
    `kube-proxy ${pinned} not found (${reasons.join('; ')}). Run \`make kube-proxy\` to build it once into the cache.`,
  );
}
