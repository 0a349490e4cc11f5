/*
 * How the writer takes back a change that failed before it was published (docs/architecture.md,
 * "Consistency rules"). Each step has a kernel half, which can fail, and a memory half, which
 * cannot. Kernel halves run newest first and stop at the first that fails: an older step
 * restored what a newer one relied on (a backend before the slot that names it), so going on
 * could leave a live slot naming a deleted backend. What is then left is a slot or backend of
 * the new state, valid for the service, that drift repair puts back later. Memory halves always
 * all run, so the writer's record stays the truth that drift repair restores the maps to.
 */
export class UndoLog {
  // Two arrays rather than an object per step: an apply adds one step per map write.
  private readonly kernel: Array<(() => void) | undefined> = [];
  private readonly memory: Array<(() => void) | undefined> = [];

  add(kernel?: () => void, memory?: () => void): void {
    this.kernel.push(kernel);
    this.memory.push(memory);
  }

  /** Returns false when a kernel step failed, leaving the maps part-way back. */
  run(): boolean {
    let kernelOk = true;
    for (let i = this.kernel.length - 1; i >= 0; i--) {
      const kernel = this.kernel[i];
      if (kernelOk && kernel) {
        try {
          kernel();
        } catch {
          kernelOk = false;
        }
      }
      this.memory[i]?.();
    }
    return kernelOk;
  }
}
