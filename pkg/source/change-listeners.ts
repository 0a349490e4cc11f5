/**
 * The onChange side of a Source. Notifications are batched into one microtask so a list of a
 * thousand objects wakes the caller once, not a thousand times; a throwing listener is reported
 * and does not stop the others or the source.
 */
export class ChangeListeners {
  private readonly listeners: Array<() => void> = [];
  private pending = false;

  constructor(private readonly reportListenerError: (err: unknown) => void = () => {}) {}

  add(listener: () => void): void {
    this.listeners.push(listener);
  }

  notify(): void {
    if (this.pending) return;
    this.pending = true;
    queueMicrotask(() => {
      this.pending = false;
      for (const listener of this.listeners) {
        try {
          listener();
        } catch (err) {
          this.reportListenerError(err);
        }
      }
    });
  }
}
