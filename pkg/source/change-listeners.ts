/**
 * The onChange side of a Source. Notifications are batched into one microtask so a list of a
 * thousand objects wakes the caller once, not a thousand times; a throwing listener is reported
 * and does not stop the others or the source. A batch names its changes only if every
 * notification in it did: one "anything may have changed" makes the whole batch say so.
 */
import type { ChangeListener, ObjectChange } from './types.js';

export class ChangeListeners {
  private readonly listeners: ChangeListener[] = [];
  private pending = false;
  private batch: ObjectChange[] | undefined = [];

  constructor(
    private readonly reportListenerError: (err: unknown) => void = () => {
      // Without a reporter, a throwing listener is skipped silently.
    },
  ) {}

  add(listener: ChangeListener): void {
    this.listeners.push(listener);
  }

  notify(change?: ObjectChange): void {
    if (change === undefined) this.batch = undefined;
    else this.batch?.push(change);
    if (this.pending) return;
    this.pending = true;
    queueMicrotask(() => {
      const changes = this.batch;
      this.pending = false;
      this.batch = [];
      for (const listener of this.listeners) {
        try {
          listener(changes);
        } catch (err) {
          this.reportListenerError(err);
        }
      }
    });
  }
}
