/*
 * The pause image a real node's containerd runs every pod sandbox with. No registry is reachable,
 * so it comes from the local image build (test/images/build.sh), whose
 * ${NEARBY_CACHE:-~/.cache/nearby}/images/current.json maps image names to archives that
 * `ctr images import` loads.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LabError } from '../errors.js';
import { nodeCacheDir } from './binaries.js';
import type { PauseImage } from './real-nodes.js';

/** The sandbox image of containerd v2.4 (`containerd config default`) and of Kubernetes v1.36. */
export const PAUSE_IMAGE = 'registry.k8s.io/pause:3.10.2';

export function imagesCurrentFile(env: NodeJS.ProcessEnv = process.env): string {
  return join(nodeCacheDir(env), '..', 'images', 'current.json');
}

export function resolvePauseImage(env: NodeJS.ProcessEnv = process.env): PauseImage {
  const current = imagesCurrentFile(env);
  const hint = 'build it with `make images` (test/images/build.sh pause)';
  if (!existsSync(current))
    throw new LabError('prereq', `real nodes need the pause image ${PAUSE_IMAGE}, but ${current} does not exist: ${hint}`);
  let archives: unknown;
  try {
    archives = (JSON.parse(readFileSync(current, 'utf8')) as { archives?: unknown }).archives;
  } catch (error) {
    throw new LabError('prereq', `${current} is not valid JSON: ${hint}`, { cause: error });
  }
  const archive = (archives as Record<string, unknown> | undefined)?.[PAUSE_IMAGE];
  if (typeof archive !== 'string' || !existsSync(archive))
    throw new LabError(
      'prereq',
      `real nodes need the pause image ${PAUSE_IMAGE}, which ${current} does not list as an existing archive: ${hint}`,
    );
  return { archive, name: PAUSE_IMAGE };
}
