/*
 * The benchmarks' C programs (test/bench/c/), built by the Makefile into build/bench/. A missing
 * one is named with the target that builds it rather than failing later as a spawn error.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export type BenchProgram = 'map-writer' | 'endpoint-server' | 'connect-client' | 'name-probe';

export function benchProgram(name: BenchProgram): string {
  const path = join(ROOT, 'build/bench', name);
  if (!existsSync(path)) throw new Error(`${path} is missing: run make bench-c`);
  return path;
}
