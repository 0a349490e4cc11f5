/*
 * A screenshot of a local HTML file with headless Chromium (Debian's `chromium`). It runs with a
 * throwaway profile and everything that would reach the network turned off; the page itself
 * loads nothing. Killed by its own PID if it hangs.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { pathToFileURL } from 'node:url';

export class ChromiumError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ChromiumError';
  }
}

const NAMES = ['chromium', 'chromium-browser'];

export function findChromium(): string {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter).concat('/usr/bin')) {
    for (const name of NAMES) {
      const path = join(dir, name);
      try {
        accessSync(path, constants.X_OK);
        return path;
      } catch {
        // not here
      }
    }
  }
  throw new ChromiumError(
    "chromium not found: install Debian's package (apt-get install chromium), or run `make dashboard-png`, which does",
  );
}

export interface Screenshot {
  readonly html: string;
  readonly png: string;
  readonly width: number;
  readonly height: number;
  readonly timeoutMs?: number;
}

export function screenshot({ html, png, width, height, timeoutMs = 90_000 }: Screenshot): void {
  const chromium = findChromium();
  const profile = mkdtempSync(join(tmpdir(), 'nearby-chromium-'));
  try {
    const args = [
      '--headless',
      // Root in a container has no user namespace sandbox to give; the page is our own file.
      ...(process.getuid?.() === 0 ? ['--no-sandbox'] : []),
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
      '--no-first-run',
      '--hide-scrollbars',
      '--force-device-scale-factor=1',
      `--user-data-dir=${profile}`,
      `--screenshot=${png}`,
      `--window-size=${width},${height}`,
      pathToFileURL(html).href,
    ];
    if (existsSync(png)) rmSync(png);
    const run = spawnSync(chromium, args, { encoding: 'utf8', timeout: timeoutMs, killSignal: 'SIGKILL' });
    if (run.error) throw new ChromiumError(`${chromium} failed to run: ${run.error.message}`);
    if (!existsSync(png) || statSync(png).size === 0) {
      throw new ChromiumError(`${chromium} exited ${run.status ?? run.signal} without writing ${png}:\n${run.stderr.slice(-2000)}`);
    }
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}
