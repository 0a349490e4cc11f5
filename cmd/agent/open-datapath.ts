/*
 * Opens the node's datapath and turns the ways that can fail at start into StartupErrors that
 * say what to fix. Checks that need no BPF come first, so their message is the precise one.
 */
import { existsSync, statfsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Datapath, DatapathError, PinConflictError, unpinDatapath, type MapSizes } from '../../pkg/datapath/index.js';
import { StartupError } from '../startup-error.js';

const BPF_FS_MAGIC = 0xcafe4a11;

export interface DatapathPlacement {
  readonly cgroupPath: string;
  readonly bpffs: string;
  readonly pinRoot: string;
  readonly sizes: Partial<MapSizes>;
  readonly bpfObject?: string;
}

function checkCgroup(path: string): void {
  if (!existsSync(path) || !statSync(path).isDirectory()) {
    throw new StartupError('missing-cgroup', `cgroup ${path} does not exist (--cgroup-path/NEARBY_CGROUP_PATH)`);
  }
  if (!existsSync(join(path, 'cgroup.procs'))) {
    throw new StartupError('missing-cgroup', `${path} is not a cgroup v2 directory (no cgroup.procs)`);
  }
}

function checkBpffs(path: string): void {
  let type: number;
  try {
    type = statfsSync(path).type;
  } catch (error) {
    throw new StartupError('no-bpffs', `bpffs ${path} is not there (${(error as NodeJS.ErrnoException).code}): mount -t bpf bpf ${path}`);
  }
  if (type !== BPF_FS_MAGIC) throw new StartupError('no-bpffs', `${path} is not a bpffs mount: mount -t bpf bpf ${path}`);
}

export function openDatapath(placement: DatapathPlacement): Datapath {
  checkCgroup(placement.cgroupPath);
  checkBpffs(placement.bpffs);
  const firstStart = !existsSync(placement.pinRoot);
  try {
    return Datapath.open({
      pinRoot: placement.pinRoot,
      cgroupPath: placement.cgroupPath,
      sizes: placement.sizes,
      ...(placement.bpfObject ? { objectPath: placement.bpfObject } : {}),
    });
  } catch (error) {
    // The loader creates the pin root before it loads, and may pin maps or links before a later
    // step fails. A pin root this start created serves nobody yet: remove it, so a failed first
    // start leaves nothing pinned and nothing attached. An existing one is a running node's.
    if (firstStart) unpinDatapath(placement.pinRoot);
    const code = (error as NodeJS.ErrnoException).code;
    if (error instanceof PinConflictError) throw new StartupError('pin-conflict', error.message, { cause: error });
    if ((error instanceof DatapathError && (error.errno === 1 || error.errno === 13)) || code === 'EPERM' || code === 'EACCES') {
      throw new StartupError(
        'no-bpf-permission',
        `no permission to load BPF programs or pin under ${placement.pinRoot} (${(error as Error).message}): ` +
          'run with CAP_BPF and CAP_NET_ADMIN, or as root',
        { cause: error },
      );
    }
    if (error instanceof DatapathError) throw new StartupError('datapath', error.message, { cause: error });
    throw error;
  }
}
