/*
 * Takes nearby off a node: detaches every link it pinned (so no connect is rewritten from then on,
 * even while some process still holds the link open) and removes every pin it owns under the
 * node's pin root. Pins it does not own (ownership.ts) are left where they are and reported.
 * Running it again on a clean node finds nothing and changes nothing.
 */
import { lstatSync, readdirSync, readFileSync, rmdirSync, unlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { errnoName, UninstallError } from './errors.js';
import { libbpf } from './libbpf.js';
import { PIN_DIRS } from './object-names.js';
import { ownershipOf, type PinnedObject } from './ownership.js';

export interface ForeignPin {
  readonly path: string;
  readonly reason: string;
}

export interface UninstallReport {
  readonly pinRoot: string;
  /** Link pins whose link was detached from its cgroup, then unpinned. */
  readonly detached: readonly string[];
  /** Map pins removed. */
  readonly unpinned: readonly string[];
  /** Pins left alone: not nearby's. Their directories stay too. */
  readonly foreign: readonly ForeignPin[];
  /** Pins of nearby's (or pins that could not be read to decide) that stay: the run failed for them alone. */
  readonly failed: readonly UninstallError[];
  /** Directories removed once empty (the pin root, its maps/ and links/, an empty nearby/). */
  readonly removedDirs: readonly string[];
}

const ENOLINK = 67;
// struct bpf_map_info: name[16] at offset 24; struct bpf_prog_info: name[16] at offset 64.
const MAP_NAME_OFFSET = 24;
const PROG_NAME_OFFSET = 64;
// struct bpf_link_info: prog_id at 8; for a cgroup link, cgroup_id at 16 and attach_type at 24.
const LINK_PROG_ID_OFFSET = 8;
const LINK_ATTACH_TYPE_OFFSET = 24;
const EPERM = 1;
const INFO_SIZE = 256;
/** The directory the agent puts every node's pin root in: <bpffs>/nearby/<node>. */
const PIN_PARENT = 'nearby';

export function uninstallPins(pinRoot: string): UninstallReport {
  const report = {
    pinRoot,
    detached: [] as string[],
    unpinned: [] as string[],
    foreign: [] as ForeignPin[],
    failed: [] as UninstallError[],
    removedDirs: [] as string[],
  };
  if (!exists(pinRoot)) return report;
  // Links first: once they are detached nothing is rewritten, whatever happens to the maps.
  for (const dir of [PIN_DIRS.links, PIN_DIRS.maps, PIN_DIRS.staging]) {
    const path = join(pinRoot, dir);
    if (!exists(path)) continue;
    for (const entry of readdirSync(path).sort()) {
      const pin = join(path, entry);
      // One pin that cannot be removed must not keep the others attached: note it and go on.
      try {
        removeIfOwned(dir, entry, pin, report);
      } catch (error) {
        if (!(error instanceof UninstallError)) throw error;
        report.failed.push(error);
      }
    }
  }
  for (const entry of readdirSync(pinRoot).sort()) {
    if (entry !== PIN_DIRS.links && entry !== PIN_DIRS.maps && entry !== PIN_DIRS.staging) {
      const ownership = ownershipOf('', entry, { kind: 'other' });
      if (!ownership.owned) report.foreign.push({ path: join(pinRoot, entry), reason: ownership.reason });
    }
  }
  for (const dir of [join(pinRoot, PIN_DIRS.links), join(pinRoot, PIN_DIRS.maps), join(pinRoot, PIN_DIRS.staging), pinRoot]) {
    if (removeIfEmpty(dir)) report.removedDirs.push(dir);
  }
  const parent = dirname(pinRoot);
  if (basename(parent) === PIN_PARENT && removeIfEmpty(parent)) report.removedDirs.push(parent);
  return report;
}

function removeIfOwned(
  dir: string,
  entry: string,
  pin: string,
  report: { detached: string[]; unpinned: string[]; foreign: ForeignPin[] },
): void {
  const object = inspect(pin);
  const ownership = ownershipOf(dir, entry, object.what);
  try {
    if (!ownership.owned) {
      report.foreign.push({ path: pin, reason: ownership.reason });
      return;
    }
    if (object.what.kind === 'link') detach(object.fd, pin);
    unpin(pin);
    (object.what.kind === 'link' ? report.detached : report.unpinned).push(pin);
  } finally {
    if (object.fd >= 0) libbpf.close(object.fd);
  }
}

function exists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw new UninstallError(path, `cannot be read: ${(error as Error).message}`);
  }
}

/** What is pinned at `pin`, with the fd it was opened by (-1 when nothing was opened). */
function inspect(pin: string): { what: PinnedObject; fd: number } {
  if (lstatSync(pin).isDirectory()) return { what: { kind: 'directory' }, fd: -1 };
  const fd = libbpf.objGet(pin) as number;
  if (fd < 0) throw new UninstallError(pin, `cannot be opened to check whose it is: ${errnoName(-fd)}`, -fd);
  try {
    const fdinfo = readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8');
    const field = (name: string): string | undefined => new RegExp(`^${name}:\\s*(\\S+)$`, 'm').exec(fdinfo)?.[1];
    if (field('map_type') !== undefined) return { what: { kind: 'map', name: nameAt(infoOf(fd, pin), MAP_NAME_OFFSET) }, fd };
    const linkType = field('link_type');
    if (linkType !== undefined) {
      const info = infoOf(fd, pin);
      const cgroup = linkType === 'cgroup';
      const attachType = cgroup ? info.readUInt32LE(LINK_ATTACH_TYPE_OFFSET) : -1;
      return { what: { kind: 'link', linkType, attachType, progName: progName(info.readUInt32LE(LINK_PROG_ID_OFFSET), pin) }, fd };
    }
    return { what: { kind: field('prog_type') !== undefined ? 'prog' : 'other' }, fd };
  } catch (error) {
    libbpf.close(fd);
    throw error;
  }
}

function infoOf(fd: number, what: string): Buffer {
  const info = Buffer.alloc(INFO_SIZE);
  const len = new Uint32Array([info.length]);
  const rc = libbpf.objGetInfoByFd(fd, info, len) as number;
  if (rc < 0) throw new UninstallError(what, `bpf_obj_get_info_by_fd failed: ${errnoName(-rc)}`, -rc);
  return info;
}

/** The program's name; undefined when this process may not open programs by id (no CAP_SYS_ADMIN). */
function progName(progId: number, linkPin: string): string | undefined {
  if (progId === 0) return '';
  const fd = libbpf.progGetFdById(progId) as number;
  if (fd === -EPERM) return undefined;
  if (fd < 0) throw new UninstallError(linkPin, `its program (id ${progId}) cannot be opened: ${errnoName(-fd)}`, -fd);
  try {
    return nameAt(infoOf(fd, `${linkPin} (program id ${progId})`), PROG_NAME_OFFSET);
  } finally {
    libbpf.close(fd);
  }
}

function nameAt(info: Buffer, offset: number): string {
  const raw = info.subarray(offset, offset + 16);
  const end = raw.indexOf(0);
  return raw.subarray(0, end < 0 ? raw.length : end).toString('latin1');
}

function detach(fd: number, pin: string): void {
  const rc = libbpf.linkDetach(fd) as number;
  // ENOLINK: already detached (its cgroup went away, or an earlier run stopped half-way).
  if (rc < 0 && -rc !== ENOLINK) throw new UninstallError(pin, `bpf_link_detach failed: ${errnoName(-rc)}`, -rc);
}

function unpin(pin: string): void {
  try {
    unlinkSync(pin);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT')
      throw new UninstallError(pin, `cannot be unpinned: ${(error as Error).message}`);
  }
}

/** rmdir, never recursive: a directory that still holds a foreign pin stays. */
function removeIfEmpty(dir: string): boolean {
  try {
    rmdirSync(dir);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTEMPTY' || code === 'EEXIST') return false;
    throw new UninstallError(dir, `cannot be removed: ${(error as Error).message}`);
  }
}
