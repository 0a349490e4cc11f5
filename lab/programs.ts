/*
 * The programs the lab starts: the supervisor, the prober, the agent and the images' built-in
 * programs. They always run compiled (dist/), even when the lab is driven from the TypeScript
 * sources: an agent under a TypeScript loader starts three times slower, and the lab starts many.
 * When driven from sources, a stale dist/ is refused rather than silently run.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LabError } from './errors.js';

const HERE = dirname(fileURLToPath(import.meta.url));

function findProjectRoot(): string {
  for (let dir = HERE; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'lab', 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new LabError('prereq', `cannot find the nearby project root above ${HERE}`);
  }
}

export const PROJECT_ROOT = findProjectRoot();
const DIST = join(PROJECT_ROOT, 'dist');

export const PROGRAMS = {
  supervisor: join(DIST, 'lab/supervisor-main.js'),
  prober: join(DIST, 'lab/prober-main.js'),
  agent: join(DIST, 'cmd/agent.js'),
  helloworld: join(DIST, 'lab/images/helloworld.js'),
  /** A client tool for `lab exec`, not an image: many connects from a pod in one process. */
  connectProbe: join(DIST, 'lab/connect-probe-main.js'),
  /** The CLI, for what a demo runs as a user would (nearbyctl create-remote-secret). */
  nearbyctl: join(DIST, 'cmd/nearbyctl.js'),
} as const;

export const BPF_OBJECT = join(PROJECT_ROOT, 'build/bpf/nearby.bpf.o');

/** True when this module is the TypeScript source (vitest, tsx), not the compiled dist/. */
const FROM_SOURCES = import.meta.url.endsWith('.ts');

/** USER_HZ, the unit of /proc/<pid>/stat start times; 100 on every Linux architecture. */
const CLOCK_TICKS = 100;

/** When a process started, from /proc; undefined if that cannot be read. */
function startedAtMs(pid: number): number | undefined {
  try {
    const boot = Number(/^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1]);
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const ticks = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
    return Number.isFinite(boot) && Number.isFinite(ticks) ? boot * 1000 + (ticks * 1000) / CLOCK_TICKS : undefined;
  } catch {
    return undefined;
  }
}

/**
 * When this run started: this process, or its parent if earlier (a test runner's worker is
 * started per test file, its runner once per run). Sources edited after that were edited while
 * the run was under way, not forgotten before it.
 */
const RUN_START_MS = Math.min(Date.now() - process.uptime() * 1000, startedAtMs(process.ppid) ?? Infinity);

/** Sources edited after their dist/ file was built, and before this process started. */
function sourcesNewerThanDist(): string[] {
  const stale: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== 'node_modules') walk(path);
      } else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) {
        const rel = relative(PROJECT_ROOT, path);
        const built = join(DIST, rel.replace(/\.ts$/, '.js'));
        const edited = statSync(path).mtimeMs;
        if (!existsSync(built) || (statSync(built).mtimeMs < edited && edited < RUN_START_MS)) stale.push(rel);
      }
    }
  };
  for (const top of ['cmd', 'pkg', 'lab']) walk(join(PROJECT_ROOT, top));
  return stale;
}

let checkedCurrent = false;

/**
 * Throws a 'prereq' LabError unless every program and the BPF object are built, and (from the
 * sources) not older than sources edited before this run started. Edits made while a run is
 * under way do not count: the run uses the dist/ that was built for it.
 */
export function assertBuilt(): void {
  const missing = [...Object.values(PROGRAMS), BPF_OBJECT].filter((path) => !existsSync(path));
  if (missing.length > 0) {
    throw new LabError('prereq', `not built: ${missing.map((p) => relative(PROJECT_ROOT, p)).join(', ')}; run make build`);
  }
  if (FROM_SOURCES && !checkedCurrent) {
    const stale = sourcesNewerThanDist();
    if (stale.length > 0) {
      const shown = stale.slice(0, 5).join(', ') + (stale.length > 5 ? ` and ${stale.length - 5} more` : '');
      throw new LabError('prereq', `dist/ is older than its sources (${shown}); the lab runs dist/, so run make build`);
    }
    checkedCurrent = true;
  }
}
