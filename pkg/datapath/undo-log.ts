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
  private readonly steps: Array<{ readonly kernel?: () => void; readonly memory?: () => void }> = [];

  add(kernel?: () => void, memory?: () => void): void {
    this.steps.push({ ...(kernel ? { kernel } : {}), ...(memory ? { memory } : {}) });
  }

  /** Returns false when a kernel step failed, leaving the maps part-way back. */
  run(): boolean {
    let kernelOk = true;
    for (let i = this.steps.length - 1; i >= 0; i--) {
      const step = this.steps[i]!;
      if (kernelOk && step.kernel) {
        try {
          step.kernel();
        } catch {
          kernelOk = false;
        }
      }
      step.memory?.();
    }
    return kernelOk;
  }
}
