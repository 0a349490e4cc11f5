import { watch, type FSWatcher } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ChangeListeners } from './change-listeners.js';
import { ManifestError } from './errors.js';
import { parseManifest } from './manifest-parse.js';
import type { ChangeListener, Source, SourceStatus } from './types.js';

export interface FileSourceOptions {
  /** Quiet time after a change before re-reading: editors and `cp` write files in pieces. */
  readonly debounceMs?: number;
  /** Full rescan period, because fs.watch misses events on some filesystems (NFS, overlay, some VMs). */
  readonly rescanIntervalMs?: number;
  /** Off where inotify is unavailable or exhausted; the rescan alone then notices changes. */
  readonly useFsWatch?: boolean;
  /** Where a throwing onChange listener is reported. */
  readonly onListenerError?: (err: unknown) => void;
}

/** A file that could not be read or parsed, and since when. */
export interface FileProblem {
  readonly file: string;
  readonly message: string;
  readonly sinceMs: number;
}

interface FileState {
  /** Text of the last read, to skip re-parsing unchanged files on every rescan. */
  readonly text: string;
  /** Objects of the last text that parsed; kept while the file is broken. */
  readonly objects: ReadonlyArray<Record<string, unknown>>;
  readonly problem?: FileProblem;
}

const MANIFEST_EXTENSIONS = ['.yaml', '.yml', '.json'];

function isManifestName(name: string): boolean {
  // Dotfiles are editor swap files and the `..data` plumbing of ConfigMap volumes.
  return !name.startsWith('.') && MANIFEST_EXTENSIONS.some((ext) => name.endsWith(ext));
}

/**
 * Serves the Kubernetes objects found in the manifest files of one directory (not its
 * subdirectories). Re-reads on fs.watch events and on a periodic rescan. A file that breaks
 * keeps contributing its last good objects until it is fixed or removed, so one bad save never
 * withdraws services.
 */
export class FileSource implements Source {
  private readonly debounceMs: number;
  private readonly rescanIntervalMs: number;
  private readonly useFsWatch: boolean;
  private readonly listeners: ChangeListeners;
  private files = new Map<string, FileState>();
  private cached: readonly unknown[] | undefined = [];
  private directoryProblem: string | undefined;
  private synced = false;
  private lastSyncMs = 0;
  private running = false;
  private watcher: FSWatcher | undefined;
  private rescanTimer: NodeJS.Timeout | undefined;
  private debounceTimer: NodeJS.Timeout | undefined;
  private scanInFlight: Promise<void> | undefined;
  private scanRequested = false;

  constructor(
    readonly directory: string,
    options: FileSourceOptions = {},
  ) {
    this.debounceMs = options.debounceMs ?? 50;
    this.rescanIntervalMs = options.rescanIntervalMs ?? 2_000;
    this.useFsWatch = options.useFsWatch ?? true;
    this.listeners = new ChangeListeners(options.onListenerError);
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    await this.scan();
    this.ensureWatcher();
    this.rescanTimer = setInterval(() => {
      // A directory created after start, or recreated, needs its watcher (re)established.
      this.ensureWatcher();
      void this.scan();
    }, this.rescanIntervalMs);
    this.rescanTimer.unref();
  }

  async stop(): Promise<void> {
    this.running = false;
    clearInterval(this.rescanTimer);
    clearTimeout(this.debounceTimer);
    this.closeWatcher();
    await this.scanInFlight;
  }

  objects(): readonly unknown[] {
    if (this.cached === undefined) {
      const names = [...this.files.keys()].sort();
      this.cached = names.flatMap((name) => this.files.get(name)?.objects ?? []);
    }
    return this.cached;
  }

  /** A directory of files re-read whole names no single objects: every signal is "anything". */
  onChange(listener: ChangeListener): void {
    this.listeners.add(listener);
  }

  status(): SourceStatus {
    const message = this.statusMessage();
    return message === undefined
      ? { synced: this.synced, lastSyncMs: this.lastSyncMs }
      : { synced: this.synced, lastSyncMs: this.lastSyncMs, message };
  }

  /** Files that currently fail to read or parse. */
  errors(): readonly FileProblem[] {
    return [...this.files.values()].flatMap((state) => (state.problem ? [state.problem] : []));
  }

  private statusMessage(): string | undefined {
    if (this.directoryProblem !== undefined) return this.directoryProblem;
    const problems = this.errors();
    if (problems.length === 0) return this.synced ? undefined : `reading ${this.directory}`;
    const details = problems.map((p) => p.message).join('; ');
    return `${problems.length} manifest file(s) failed, keeping their last good objects: ${details}`;
  }

  private ensureWatcher(): void {
    if (this.watcher || !this.running || !this.useFsWatch) return;
    try {
      this.watcher = watch(this.directory, { persistent: false }, () => this.scheduleScan());
      // The directory vanished or the watcher broke: drop it; the rescan timer re-creates it.
      this.watcher.on('error', () => this.closeWatcher());
    } catch {
      // Directory missing or not watchable here: the periodic rescan still covers it.
      this.watcher = undefined;
    }
  }

  private closeWatcher(): void {
    this.watcher?.close();
    this.watcher = undefined;
  }

  private scheduleScan(): void {
    if (!this.running) return;
    clearTimeout(this.debounceTimer);
    this.debounceTimer = setTimeout(() => void this.scan(), this.debounceMs);
  }

  /** One scan at a time; a request arriving mid-scan runs one more afterwards. */
  private scan(): Promise<void> {
    if (this.scanInFlight) {
      this.scanRequested = true;
      return this.scanInFlight;
    }
    this.scanInFlight = (async () => {
      do {
        this.scanRequested = false;
        await this.scanOnce();
        // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- a scan() call during the await sets it
      } while (this.scanRequested && this.running);
    })().finally(() => {
      this.scanInFlight = undefined;
    });
    return this.scanInFlight;
  }

  private async scanOnce(): Promise<void> {
    let names: string[];
    try {
      names = (await readdir(this.directory)).filter(isManifestName);
    } catch (err) {
      // Keep every object: a directory briefly gone (remount, ConfigMap swap) is not "delete all".
      const before = this.directoryProblem;
      this.directoryProblem = `cannot read directory ${this.directory}: ${(err as Error).message}`;
      if (before !== this.directoryProblem) this.listeners.notify();
      return;
    }
    const next = new Map<string, FileState>();
    let changed = this.directoryProblem !== undefined;
    for (const name of names) {
      const previous = this.files.get(name);
      const state = await this.readFileState(name, previous);
      if (state === undefined) continue; // a subdirectory, or removed since readdir
      if (state !== previous) changed = true;
      next.set(name, state);
    }
    for (const name of this.files.keys()) if (!next.has(name)) changed = true;
    this.files = next;
    this.directoryProblem = undefined;
    this.synced = true;
    this.lastSyncMs = Date.now();
    if (changed) {
      this.cached = undefined;
      this.listeners.notify();
    }
  }

  /** The new state of one file, or `previous` itself when nothing changed. */
  private async readFileState(name: string, previous: FileState | undefined): Promise<FileState | undefined> {
    const path = join(this.directory, name);
    let text: string;
    try {
      if (!(await stat(path)).isFile()) return undefined;
      text = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      return this.withProblem(previous, new ManifestError(name, `cannot read: ${(err as Error).message}`, { cause: err }), '');
    }
    if (previous?.text === text) return previous;
    try {
      return { text, objects: parseManifest(name, text) };
    } catch (err) {
      const problem = err instanceof ManifestError ? err : new ManifestError(name, String(err), { cause: err });
      return this.withProblem(previous, problem, text);
    }
  }

  private withProblem(previous: FileState | undefined, error: ManifestError, text: string): FileState {
    if (previous?.problem?.message === error.message && previous.text === text) return previous;
    const sinceMs = previous?.problem?.message === error.message ? previous.problem.sinceMs : Date.now();
    return { text, objects: previous?.objects ?? [], problem: { file: error.file, message: error.message, sinceMs } };
  }
}
