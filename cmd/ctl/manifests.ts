/* Reads a manifest directory exactly as the agent's --state-dir would, once, without watching. */
import { existsSync, statSync } from 'node:fs';
import { FileSource } from '../../pkg/source/index.js';
import { StartupError } from '../startup-error.js';

export interface Manifests {
  readonly objects: readonly unknown[];
  /** Files that could not be read or parsed, one line each. */
  readonly problems: readonly string[];
}

export async function readManifests(dir: string): Promise<Manifests> {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new StartupError('usage', `--state ${dir}: not a directory`);
  const source = new FileSource(dir, { useFsWatch: false });
  await source.start();
  try {
    return { objects: source.objects(), problems: source.errors().map((p) => `${p.file}: ${p.message}`) };
  } finally {
    await source.stop();
  }
}
