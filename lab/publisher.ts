/*
 * Publishes the cluster state into cluster/ as kubectl-style YAML, one file per kind, for the
 * agents' FileSource. A file is written only when its text changes, to a dotfile first (which
 * FileSource ignores) and renamed, so an agent never reads half a file.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';

export type ClusterFiles = Readonly<Record<string, ReadonlyArray<Record<string, unknown>>>>;

export class ClusterPublisher {
  private readonly written = new Map<string, string>();

  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  /** Returns true if any file changed. */
  publish(files: ClusterFiles): boolean {
    let changed = false;
    for (const [name, objects] of Object.entries(files)) {
      const text = objects.map((o) => stringify(o, { lineWidth: 0 })).join('---\n');
      if (this.written.get(name) === text) continue;
      const tmp = join(this.dir, `.${name}.tmp`);
      writeFileSync(tmp, text);
      renameSync(tmp, join(this.dir, name));
      this.written.set(name, text);
      changed = true;
    }
    return changed;
  }
}
