/*
 * Whether a pin under a node's pin root is nearby's to remove. A bpffs directory can hold no
 * marker file, so the proof is the kernel object itself: where it is pinned, what kind of object
 * it is, and the name the kernel keeps for it must all be what the loader pins there. Map shapes
 * are not part of the proof, so that the maps of an older agent (another layout) are still removed.
 */
import { ATTACH_TYPES, MAP_NAMES, PIN_DIRS, PROGRAMS } from './object-names.js';

/** What the kernel says about a pinned object (from its fdinfo and bpf_obj_get_info_by_fd). */
export type PinnedObject =
  | { readonly kind: 'map'; readonly name: string }
  /**
   * linkType is fdinfo's link_type text ("cgroup"), attachType its enum bpf_attach_type; progName
   * the program's name, undefined where it cannot be read (without CAP_SYS_ADMIN).
   */
  | { readonly kind: 'link'; readonly linkType: string; readonly attachType: number; readonly progName?: string | undefined }
  | { readonly kind: 'prog' | 'directory' | 'other' };

export type Ownership = { readonly owned: true } | { readonly owned: false; readonly reason: string };

/** The kernel keeps BPF_OBJ_NAME_LEN (16) bytes of a name, NUL included. */
export const KERNEL_NAME_LENGTH = 15;

export function kernelName(name: string): string {
  return name.slice(0, KERNEL_NAME_LENGTH);
}

/**
 * `dir` is the pin's directory relative to the pin root ('maps', 'links', or '' for the root
 * itself), `entry` its file name there.
 */
export function ownershipOf(dir: string, entry: string, object: PinnedObject): Ownership {
  // maps-next holds the same maps while an upgrade builds them (loader.ts).
  if (dir === PIN_DIRS.maps || dir === PIN_DIRS.staging) {
    if (!MAP_NAMES.includes(entry)) return { owned: false, reason: `no map of nearby's is called ${entry}` };
    if (object.kind !== 'map') return { owned: false, reason: `a ${object.kind} where nearby pins a map` };
    if (object.name !== kernelName(entry)) return { owned: false, reason: `a map named ${JSON.stringify(object.name)}, not ${entry}` };
    return { owned: true };
  }
  if (dir === PIN_DIRS.links) {
    if (!(PROGRAMS as readonly string[]).includes(entry)) return { owned: false, reason: `no program of nearby's is called ${entry}` };
    if (object.kind !== 'link') return { owned: false, reason: `a ${object.kind} where nearby pins a link` };
    if (object.linkType !== 'cgroup') return { owned: false, reason: `a ${object.linkType} link; nearby pins cgroup links` };
    const expected = ATTACH_TYPES[entry as keyof typeof ATTACH_TYPES];
    if (object.attachType !== expected)
      return { owned: false, reason: `attach type ${object.attachType}; ${entry} attaches as ${expected}` };
    if (object.progName !== undefined && object.progName !== kernelName(entry))
      return { owned: false, reason: `a link to program ${JSON.stringify(object.progName)}, not ${entry}` };
    return { owned: true };
  }
  return { owned: false, reason: 'nearby pins nothing here' };
}
