import { describe, expect, it } from "vitest";
import { describeStatus } from "./status";

const NOW = new Date("2026-11-24T12:00:00Z");

describe("describeStatus", () => {
  it("explains polling with the engine's reason", () => {
    const v = describeStatus({ state: "polling", reason: "the network blocks WebSockets" }, "en", NOW);
    expect(v.title).toBe("Checking regularly");
    expect(v.text).toContain("the network blocks WebSockets");
    expect(v.tone).toBe("warn");
  });
  it("gives the throttling deadline as a time and relative", () => {
    const v = describeStatus({ state: "throttled", until: "2026-11-24T12:05:00Z" }, "en", NOW, "UTC");
    expect(v.text).toContain("12:05");
    expect(v.text).toContain("in 5 minutes");
  });
  it("shows progress while resyncing, with counts", () => {
    const v = describeStatus({ state: "resyncing", pages: 12, items: 2400 }, "en", NOW);
    expect(v.progress).toBe(true);
    expect(v.text).toContain("2,400 items in 12 pages");
  });
  it("asks for a sign-in only when that is what helps", () => {
    expect(describeStatus({ state: "needsSignIn" }, "en", NOW).needsSignIn).toBe(true);
    expect(describeStatus({ state: "live" }, "en", NOW).needsSignIn).toBe(false);
    expect(describeStatus({ state: "error", reason: "x" }, "ru", NOW).title).toBe("Остановлено из-за ошибки");
  });
});
