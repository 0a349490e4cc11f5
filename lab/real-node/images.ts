/*
 * The images a real node's containerd has before any pod starts. No registry is reachable, so they
 * come from the local image build (test/images/build.sh), whose
 * ${NEARBY_CACHE:-~/.cache/nearby}/images/current.json maps image names to archives that
 * `ctr images import` loads. The pause image is required (every pod sandbox runs it); the others
 * (the agent, the samples) only make their pods runnable, so a missing one is a warning.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { LabError } from '../errors.js';
import { nodeCacheDir } from './binaries.js';
import type { NodeImage } from './real-nodes.js';

/** The sandbox image of containerd v2.4 (`containerd config default`) and of Kubernetes v1.36. */
export const PAUSE_IMAGE = 'registry.k8s.io/pause:3.10.2';

const BUILD_HINT = 'build them with `make images` (test/images/build.sh)';

export function imagesCurrentFile(env: NodeJS.ProcessEnv = process.env): string {
  return join(nodeCacheDir(env), '..', 'images', 'current.json');
}

/** current.json's archives by image name, or why it cannot be read. */
function readArchives(current: string): Record<string, unknown> | Error {
  if (!existsSync(current)) return new Error(`${current} does not exist`);
  try {
    const archives = (JSON.parse(readFileSync(current, 'utf8')) as { archives?: unknown }).archives;
    return typeof archives === 'object' && archives !== null ? (archives as Record<string, unknown>) : {};
  } catch (error) {
    return new Error(`${current} is not valid JSON`, { cause: error });
  }
}

export function resolvePauseImage(env: NodeJS.ProcessEnv = process.env): NodeImage {
  const current = imagesCurrentFile(env);
  const hint = 'build it with `make images` (test/images/build.sh pause)';
  const archives = readArchives(current);
  if (archives instanceof Error)
    throw new LabError('prereq', `real nodes need the pause image ${PAUSE_IMAGE}, but ${archives.message}: ${hint}`, {
      cause: archives,
    });
  const archive = archives[PAUSE_IMAGE];
  if (typeof archive !== 'string' || !existsSync(archive))
    throw new LabError(
      'prereq',
      `real nodes need the pause image ${PAUSE_IMAGE}, which ${current} does not list as an existing archive: ${hint}`,
    );
  return { archive, name: PAUSE_IMAGE };
}

/**
 * Every other image current.json lists with an existing archive. What is missing is logged and
 * left out: the lab comes up, and only the pods of that image stay in ErrImageNeverPull.
 */
export function resolveOtherImages(logger: Logger, env: NodeJS.ProcessEnv = process.env): NodeImage[] {
  const current = imagesCurrentFile(env);
  const archives = readArchives(current);
  if (archives instanceof Error) {
    logger.warn({ current, reason: archives.message, hint: BUILD_HINT }, 'real nodes get no images but pause');
    return [];
  }
  const images: NodeImage[] = [];
  for (const [name, archive] of Object.entries(archives)) {
    if (name === PAUSE_IMAGE) continue;
    if (typeof archive === 'string' && existsSync(archive)) images.push({ name, archive });
    else logger.warn({ image: name, archive, hint: BUILD_HINT }, 'image archive missing; its pods will not start on real nodes');
  }
  return images;
}
