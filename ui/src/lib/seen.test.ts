import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { SeenTracker } from "./seen";

describe("SeenTracker", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  function tracker() {
    const state = { seen: true };
    const mark = vi.fn();
    const t = new SeenTracker({ isSeen: () => state.seen, mark, delayMs: 1000 });
    return { state, mark, t };
  }

  it("marks once after a quiet moment, however many pokes came", () => {
    const { mark, t } = tracker();
    t.poke();
    vi.advanceTimersByTime(600);
    t.poke();
    t.poke();
    vi.advanceTimersByTime(999);
    expect(mark).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(mark).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(10_000);
    expect(mark).toHaveBeenCalledTimes(1);
  });

  it("never marks while the list is not seen, nor when it stopped being seen meanwhile", () => {
    const { state, mark, t } = tracker();
    state.seen = false;
    t.poke();
    vi.advanceTimersByTime(5000);
    expect(mark).not.toHaveBeenCalled();
    state.seen = true;
    t.poke();
    state.seen = false;
    vi.advanceTimersByTime(5000);
    expect(mark).not.toHaveBeenCalled();
  });

  it("marks at once when asked, dropping a pending poke; dispose cancels", () => {
    const { mark, t } = tracker();
    t.poke();
    t.markNow();
    expect(mark).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(5000);
    expect(mark).toHaveBeenCalledTimes(1);
    t.poke();
    t.dispose();
    vi.advanceTimersByTime(5000);
    expect(mark).toHaveBeenCalledTimes(1);
  });
});
