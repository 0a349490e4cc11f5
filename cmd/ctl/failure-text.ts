/*
 * What nearbyctl prints for an error no command caught. An expected failure (the lab's LabError:
 * a wait that ran out, a manifest refused) is one line, its message; only a bug gets a stack.
 * Matched by name, not class: the lab is a package of its own, loaded at run time, and a second
 * copy of its module would not share the class.
 */
export function failureText(error: unknown): string {
  if (error instanceof Error && error.name === 'LabError') return `nearbyctl: ${error.message}`;
  return `nearbyctl: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`;
}
