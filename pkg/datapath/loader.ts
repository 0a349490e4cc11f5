/*
 * Loads the BPF object, pins its maps and links under the node's own pin root, and attaches
 * every program to the node's cgroup. A second start reuses the pinned maps (state survives)
 * and swaps programs inside the pinned links, so connects never see a moment without a hook.
 */
import { closeSync, existsSync, mkdirSync, openSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MAP_LAYOUTS, mapsByRole, type MapRole } from './bpf-map.js';
import { control, STRUCTS } from './codecs.js';
import { BpfCallError, DatapathError, errnoName, PinConflictError } from './errors.js';
import { type Handle, isNull, lastErrno, libbpf } from './libbpf.js';
import { KernelBpfMap } from './kernel-map.js';
import { LAYOUT_VERSION } from './fail-open.js';
import { PIN_DIRS, PROGRAMS, UNSIZED_MAPS } from './object-names.js';
import { DEFAULT_MAP_SIZES, type MapSizes } from './types.js';

export { PROGRAMS } from './object-names.js';

const ROLES = Object.keys(MAP_LAYOUTS) as MapRole[];
/**
 * Maps the agent sizes, by name in the object, with the MapSizes entry that sizes them and
 * whether that entry is their own (a map sized like another one never redefines its size).
 * sock_meta (socket-local storage) has no size.
 */
const SIZED_MAPS: Record<string, { readonly size: keyof MapSizes; readonly own: boolean }> = Object.fromEntries(
  ROLES.map((role) => [MAP_LAYOUTS[role].name, { size: MAP_LAYOUTS[role].sizedBy, own: MAP_LAYOUTS[role].sizedBy === role }]),
);
const ALL_MAPS = [...Object.keys(SIZED_MAPS), ...UNSIZED_MAPS];

export interface LoadOptions {
  /** Per-node pin root, e.g. /sys/fs/bpf/nearby/<node>. Never shared between nodes. */
  readonly pinRoot: string;
  /** The node's cgroup v2 directory; programs attach here and nowhere else. */
  readonly cgroupPath: string;
  readonly sizes?: Partial<MapSizes>;
  /** Defaults to build/bpf/nearby.bpf.o of this checkout. */
  readonly objectPath?: string;
  /** NEARBY_LAYOUT_VERSION of the maps this object makes; a test bumps it to rehearse an upgrade. */
  readonly layoutVersion?: number;
}

/** The pinned maps, by role: the DatapathMaps the writer takes, with the kernel-only reads too. */
export type KernelMaps = Readonly<Record<MapRole, KernelBpfMap>>;

export interface LoadReport {
  /** Maps found pinned and reused (their contents survived). */
  readonly reusedMaps: string[];
  /** Links found pinned whose program was swapped in place. */
  readonly updatedLinks: string[];
  /** Pinned maps whose size differs from the options: the pinned size wins, state is kept. */
  readonly sizeMismatches: Array<{ map: string; pinned: number; requested: number }>;
  /**
   * The layout version of the pinned maps when it differs from this object's: the new maps are
   * built beside them and the old programs keep serving until finishUpgrade().
   */
  readonly upgradingFrom?: number;
}

export function defaultObjectPath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  // Works from the sources (pkg/datapath) and from the compiled tree (dist/pkg/datapath).
  for (const up of ['../..', '../../..']) {
    const candidate = resolve(here, up, 'build/bpf/nearby.bpf.o');
    if (existsSync(candidate)) return candidate;
  }
  return resolve(here, '../../build/bpf/nearby.bpf.o');
}

export class LoadedDatapath {
  private closed = false;

  private constructor(
    private readonly obj: Handle,
    private readonly links: Handle[],
    readonly maps: KernelMaps,
    /** The one-row control map: heartbeat, fail-open bound, layout version (fail-open.ts). */
    readonly control: KernelBpfMap,
    readonly sizes: MapSizes,
    readonly pinRoot: string,
    readonly report: LoadReport,
    readonly layout: number,
    /** The new programs, by link, while an upgrade waits for its maps to be filled. */
    private pending: Array<{ readonly link: Handle; readonly prog: Handle; readonly path: string }> | undefined,
    /**
     * While upgrading, the control map the old programs still read: its heartbeat must go on
     * until they are swapped out, or a slow first pass could trip fail-open.
     */
    readonly previousControl?: KernelBpfMap,
  ) {}

  /** Whether new maps are being filled beside the pinned ones (report.upgradingFrom). */
  get upgrading(): boolean {
    return this.pending !== undefined;
  }

  /**
   * Ends an upgrade once the writer has filled the new maps: every pinned link is switched to
   * the new programs (each switch is atomic, so every connect sees one whole datapath or the
   * other), then the old maps' pins go and the new ones take their place.
   */
  finishUpgrade(): void {
    if (!this.pending) return;
    for (const { link, prog, path } of this.pending)
      check('bpf_link__update_program', libbpf.linkUpdateProgram(link, prog) as number, path);
    this.pending = undefined;
    if (this.previousControl) libbpf.close(this.previousControl.fd);
    const maps = join(this.pinRoot, PIN_DIRS.maps);
    rmSync(maps, { recursive: true, force: true });
    renameSync(join(this.pinRoot, PIN_DIRS.staging), maps);
  }

  static load(opts: LoadOptions): LoadedDatapath {
    const objectPath = opts.objectPath ?? defaultObjectPath();
    if (!existsSync(objectPath)) throw new DatapathError(`BPF object not found at ${objectPath}: run make bpf`);
    const cgroupId = cgroupIdOf(opts.cgroupPath);
    const layout = opts.layoutVersion ?? LAYOUT_VERSION;
    const pinnedLayout = pinnedLayoutVersion(join(opts.pinRoot, PIN_DIRS.maps));
    const upgrading = pinnedLayout !== undefined && pinnedLayout !== layout;
    // An upgrade builds its maps in the staging directory; one an earlier start left half-done
    // is nobody's yet (its programs were never swapped in), so it starts over.
    const mapsDir = join(opts.pinRoot, upgrading ? PIN_DIRS.staging : PIN_DIRS.maps);
    if (upgrading) rmSync(mapsDir, { recursive: true, force: true });
    mkdirSync(mapsDir, { recursive: true });
    mkdirSync(join(opts.pinRoot, 'links'), { recursive: true });

    const obj = libbpf.objectOpenFile(objectPath, null) as Handle;
    if (isNull(obj)) throw new BpfCallError('bpf_object__open_file', lastErrno(), objectPath);
    const links: Handle[] = [];
    try {
      const requested: MapSizes = { ...DEFAULT_MAP_SIZES, ...opts.sizes };
      const sizes = { ...requested };
      const reusedMaps: string[] = [];
      const sizeMismatches: LoadReport['sizeMismatches'] = [];
      const capacities = new Map<string, number>();
      for (const name of ALL_MAPS) {
        const map = libbpf.objectFindMap(obj, name) as Handle;
        if (isNull(map)) throw new DatapathError(`BPF object ${objectPath} has no map "${name}"`);
        const pinPath = join(mapsDir, name);
        const sized = SIZED_MAPS[name];
        const pinnedSize = existsSync(pinPath) ? pinnedMaxEntries(pinPath) : undefined;
        if (pinnedSize !== undefined) reusedMaps.push(name);
        if (sized) {
          if (pinnedSize !== undefined && pinnedSize !== requested[sized.size]) {
            sizeMismatches.push({ map: name, pinned: pinnedSize, requested: requested[sized.size] });
          }
          const size = pinnedSize ?? requested[sized.size];
          if (sized.own) sizes[sized.size] = size;
          capacities.set(name, size);
          check('bpf_map__set_max_entries', libbpf.mapSetMaxEntries(map, size) as number, name);
        }
        check('bpf_map__set_pin_path', libbpf.mapSetPinPath(map, pinPath) as number, pinPath);
      }
      const rc = libbpf.objectLoad(obj) as number;
      if (rc < 0) throw loadError(-rc, objectPath, opts.pinRoot);

      const updatedLinks: string[] = [];
      const pending: Array<{ link: Handle; prog: Handle; path: string }> = [];
      const cgroupFd = openSync(opts.cgroupPath, 'r');
      try {
        for (const name of PROGRAMS) {
          const prog = libbpf.objectFindProgram(obj, name) as Handle;
          if (isNull(prog)) throw new DatapathError(`BPF object ${objectPath} has no program "${name}"`);
          const linkPath = join(opts.pinRoot, 'links', name);
          if (existsSync(linkPath)) {
            const link = libbpf.linkOpen(linkPath) as Handle;
            if (isNull(link)) throw new BpfCallError('bpf_link__open', lastErrno(), linkPath);
            links.push(link);
            assertLinkOnCgroup(link, linkPath, cgroupId, opts.cgroupPath);
            // Upgrading: the old programs keep the old maps serving until the new ones are full.
            if (upgrading) pending.push({ link, prog, path: linkPath });
            else check('bpf_link__update_program', libbpf.linkUpdateProgram(link, prog) as number, linkPath);
            updatedLinks.push(name);
          } else {
            const link = libbpf.programAttachCgroup(prog, cgroupFd) as Handle;
            if (isNull(link)) throw new BpfCallError('bpf_program__attach_cgroup', lastErrno(), `${name} -> ${opts.cgroupPath}`);
            links.push(link);
            check('bpf_link__pin', libbpf.linkPin(link, linkPath) as number, linkPath);
          }
        }
      } finally {
        closeSync(cgroupFd);
      }

      const cpus = libbpf.numPossibleCpus() as number;
      const map = (role: MapRole): KernelBpfMap => {
        const l = MAP_LAYOUTS[role];
        const fd = libbpf.mapFd(libbpf.objectFindMap(obj, l.name)) as number;
        return new KernelBpfMap(l.name, fd, l.keySize, l.perCpu ? l.valueSize * cpus : l.valueSize, capacities.get(l.name)!);
      };
      const maps: KernelMaps = mapsByRole(map);
      const controlFd = libbpf.mapFd(libbpf.objectFindMap(obj, 'control')) as number;
      const controlMap = new KernelBpfMap('control', controlFd, 4, STRUCTS.nearby_control.size, 1);
      const report = { reusedMaps, updatedLinks, sizeMismatches, ...(upgrading ? { upgradingFrom: pinnedLayout } : {}) };
      const previous = upgrading ? openPreviousControl(join(opts.pinRoot, PIN_DIRS.maps)) : undefined;
      return new LoadedDatapath(
        obj,
        links,
        maps,
        controlMap,
        sizes,
        opts.pinRoot,
        report,
        layout,
        upgrading ? pending : undefined,
        previous,
      );
    } catch (err) {
      // Pinned links stay attached (that is their point); only our fds go.
      for (const link of links) libbpf.linkDestroy(link);
      libbpf.objectClose(obj);
      throw err;
    }
  }

  /** Drops this process's handles. Pinned maps and links keep the datapath serving. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.pending && this.previousControl) libbpf.close(this.previousControl.fd);
    for (const link of this.links) libbpf.linkDestroy(link);
    libbpf.objectClose(this.obj);
  }
}

/**
 * Detaches and forgets a node's datapath: removing the pins drops the last references to the
 * links (which detaches the programs) and to the maps. Only for teardown, never on upgrade.
 */
export function unpinDatapath(pinRoot: string): void {
  rmSync(pinRoot, { recursive: true, force: true });
}

function check(call: string, rc: number, target: string): void {
  if (rc < 0) throw new BpfCallError(call, -rc, target);
}

function loadError(errno: number, objectPath: string, pinRoot: string): DatapathError {
  if (errno === 1 || errno === 13) {
    return new DatapathError(
      `loading ${objectPath} was refused (${errnoName(errno)}): the agent needs CAP_BPF and CAP_NET_ADMIN (or root)`,
      errno,
    );
  }
  if (errno === 22) {
    return new PinConflictError(
      `loading ${objectPath} failed (EINVAL): a map pinned under ${pinRoot}/maps may have another shape ` +
        `(an older build?); remove ${pinRoot} to start clean`,
      errno,
    );
  }
  return new BpfCallError('bpf_object__load', errno, objectPath);
}

function cgroupIdOf(cgroupPath: string): bigint {
  if (!existsSync(join(cgroupPath, 'cgroup.procs'))) {
    throw new DatapathError(`cgroup ${cgroupPath} does not exist or is not a cgroup v2 directory`);
  }
  return statSync(cgroupPath, { bigint: true }).ino; // a cgroup v2 id is its directory's inode
}

/**
 * The layout version stored with the pinned maps (bpf/nearby.h, control): undefined when nothing
 * is pinned, 1 for maps pinned before versions were stored (they have no control map).
 */
function pinnedLayoutVersion(mapsDir: string): number | undefined {
  const path = join(mapsDir, 'control');
  if (!existsSync(path)) return existsSync(join(mapsDir, MAP_LAYOUTS.services.name)) ? 1 : undefined;
  const fd = libbpf.objGet(path) as number;
  if (fd < 0) throw new BpfCallError('bpf_obj_get', -fd, path);
  try {
    const value = Buffer.alloc(STRUCTS.nearby_control.size);
    const rc = libbpf.mapLookup(fd, Buffer.alloc(4), value) as number;
    if (rc < 0) throw new BpfCallError('bpf_map_lookup_elem', -rc, path);
    const { layout } = control.decode(value);
    // A control row no agent wrote yet (a start that failed before its first heartbeat): this layout's.
    return layout === 0 ? undefined : layout;
  } finally {
    libbpf.close(fd);
  }
}

function openPreviousControl(mapsDir: string): KernelBpfMap | undefined {
  const path = join(mapsDir, 'control');
  if (!existsSync(path)) return undefined;
  const fd = libbpf.objGet(path) as number;
  if (fd < 0) throw new BpfCallError('bpf_obj_get', -fd, path);
  return new KernelBpfMap('control', fd, 4, STRUCTS.nearby_control.size, 1);
}

function pinnedMaxEntries(pinPath: string): number {
  const fd = libbpf.objGet(pinPath) as number;
  if (fd < 0) throw new BpfCallError('bpf_obj_get', -fd, pinPath);
  try {
    const info = Buffer.alloc(96); // struct bpf_map_info: max_entries at offset 16
    const len = new Uint32Array([info.length]);
    check('bpf_obj_get_info_by_fd', libbpf.objGetInfoByFd(fd, info, len) as number, pinPath);
    return info.readUInt32LE(16);
  } finally {
    libbpf.close(fd);
  }
}

function assertLinkOnCgroup(link: Handle, linkPath: string, cgroupId: bigint, cgroupPath: string): void {
  const info = Buffer.alloc(256); // struct bpf_link_info: cgroup.cgroup_id at offset 16
  const len = new Uint32Array([info.length]);
  check('bpf_obj_get_info_by_fd', libbpf.objGetInfoByFd(libbpf.linkFd(link), info, len) as number, linkPath);
  const attached = info.readBigUInt64LE(16);
  if (attached !== cgroupId) {
    throw new PinConflictError(
      `pinned link ${linkPath} is attached to cgroup id ${attached}, not to ${cgroupPath} (id ${cgroupId}); ` +
        `a pin root belongs to one node and one cgroup`,
    );
  }
}
