/* Where the lab's commands print: nearbyctl's output when it delegates to the lab, or the lab's own bin's. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
}
