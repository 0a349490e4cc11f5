/*
 * The only file that knows how libbpf is reached. Everything above it sees plain functions that
 * return numbers or opaque handles; swapping the FFI means rewriting this file alone.
 * koffi costs about 1.08x C per map write (see docs/architecture.md), hence the choice.
 *
 * libbpf.so.1 is opened on the first call, not on import: the pure parts of pkg/datapath (key
 * text, codecs, the in-memory maps the writer is tested on) must load where libbpf is absent.
 */
import koffi from 'koffi';

export type Handle = unknown; // an opaque libbpf pointer (struct bpf_object *, bpf_map *, ...)

// Buffers are passed as `void *` so that koffi hands C the Buffer's own memory: lookups write
// straight into the caller's buffer and no copy is made on the hot path of bulk writes.
function bind() {
  const lib = koffi.load('libbpf.so.1');
  return {
    objectOpenFile: lib.func('void *bpf_object__open_file(const char *path, void *opts)'),
    objectLoad: lib.func('int bpf_object__load(void *obj)'),
    objectClose: lib.func('void bpf_object__close(void *obj)'),
    objectFindMap: lib.func('void *bpf_object__find_map_by_name(void *obj, const char *name)'),
    objectFindProgram: lib.func('void *bpf_object__find_program_by_name(void *obj, const char *name)'),
    mapSetMaxEntries: lib.func('int bpf_map__set_max_entries(void *map, uint32_t max)'),
    mapSetPinPath: lib.func('int bpf_map__set_pin_path(void *map, const char *path)'),
    mapFd: lib.func('int bpf_map__fd(void *map)'),
    programAttachCgroup: lib.func('void *bpf_program__attach_cgroup(void *prog, int cgroup_fd)'),
    linkOpen: lib.func('void *bpf_link__open(const char *path)'),
    linkPin: lib.func('int bpf_link__pin(void *link, const char *path)'),
    linkUpdateProgram: lib.func('int bpf_link__update_program(void *link, void *prog)'),
    linkFd: lib.func('int bpf_link__fd(void *link)'),
    linkDestroy: lib.func('int bpf_link__destroy(void *link)'),
    linkDetach: lib.func('int bpf_link_detach(int link_fd)'),
    progGetFdById: lib.func('int bpf_prog_get_fd_by_id(uint32_t id)'),
    objGet: lib.func('int bpf_obj_get(const char *path)'),
    objGetOpts: lib.func('int bpf_obj_get_opts(const char *path, void *opts)'),
    objGetInfoByFd: lib.func('int bpf_obj_get_info_by_fd(int fd, void *info, uint32_t *len)'),
    mapUpdate: lib.func('int bpf_map_update_elem(int fd, void *key, void *value, uint64_t flags)'),
    mapLookup: lib.func('int bpf_map_lookup_elem(int fd, void *key, void *value)'),
    mapDelete: lib.func('int bpf_map_delete_elem(int fd, void *key)'),
    mapNextKey: lib.func('int bpf_map_get_next_key(int fd, void *key, void *next_key)'),
    mapUpdateBatch: lib.func('int bpf_map_update_batch(int fd, void *keys, void *values, uint32_t *count, void *opts)'),
    mapLookupBatch: lib.func(
      'int bpf_map_lookup_batch(int fd, void *in_batch, void *out_batch, void *keys, void *values, uint32_t *count, void *opts)',
    ),
    numPossibleCpus: lib.func('int libbpf_num_possible_cpus()'),
    close: koffi.load('libc.so.6').func('int close(int fd)'),
  } as const;
}

type Bindings = ReturnType<typeof bind>;
let bound: Bindings | undefined;

/** The libbpf functions, bound on first use. */
export const libbpf: Bindings = new Proxy({} as Bindings, {
  get: (_, name) => (bound ??= bind())[name as keyof Bindings],
});

// struct bpf_obj_get_opts (libbpf >= 1.0): size_t sz; __u32 file_flags; then padding (or, from
// libbpf 1.3, __u32 path_fd, which 0 leaves unused). BPF_F_RDONLY is 1 << 3 in linux/bpf.h.
const OBJ_GET_OPTS_SIZE = 16;
const BPF_F_RDONLY = 1 << 3;

/**
 * A read-only fd on a pinned object: the kernel refuses every write through it (EPERM), so a
 * reader can never change the datapath it inspects. Returns -errno like bpf_obj_get.
 */
export function objGetReadOnly(path: string): number {
  const opts = Buffer.alloc(OBJ_GET_OPTS_SIZE);
  opts.writeBigUInt64LE(BigInt(OBJ_GET_OPTS_SIZE), 0);
  opts.writeUInt32LE(BPF_F_RDONLY, 8);
  return libbpf.objGetOpts(path, opts) as number;
}

/** errno after a failed call; libbpf 1.x also returns -errno, but pointer calls only set errno. */
export function lastErrno(): number {
  return koffi.errno();
}

export function isNull(h: Handle): boolean {
  return h === null || h === undefined;
}
