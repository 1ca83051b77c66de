/**
 * When the list counts as seen, so the tray's unread count can be cleared.
 *
 * Why: the shell counts changes that deserved the user's attention since they last looked;
 * "looked" means the Recent changes list was on screen in a focused, visible window for a
 * moment. Every event that may make it so (focus, visibility, switching to the list, new
 * changes arriving while it is shown) pokes this tracker; it calls `mark` once things have
 * been quiet for `delayMs` and the list is still seen, so a burst of events makes one call.
 * Never calls `mark` while the list is not seen.
 */

export interface SeenTrackerOptions {
  /** Whether the list is seen right now. */
  isSeen: () => boolean;
  /** Tells the shell (debounced). */
  mark: () => void;
  delayMs?: number;
}

export const SEEN_DELAY_MS = 1000;

export class SeenTracker {
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly options: SeenTrackerOptions) {}

  /** Something changed that may make the list seen: mark it after a quiet moment if so. */
  poke(): void {
    clearTimeout(this.timer);
    if (!this.options.isSeen()) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.options.isSeen()) this.options.mark();
    }, this.options.delayMs ?? SEEN_DELAY_MS);
  }

  /** Marks at once (the window just opened on the list), dropping a pending poke. */
  markNow(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.options.mark();
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
