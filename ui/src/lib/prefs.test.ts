import { describe, expect, it } from "vitest";
import type { Preferences } from "../bindings";
import { activeMutes, fullPreferences, normalFolder, withEdits } from "./prefs";

const saved: Preferences = {
  notifyOwnChanges: true,
  quietHours: { start: "22:00", end: "07:00" },
  mutedPatterns: ["*.tmp"],
  startAtLogin: false,
  language: "ru",
  mutes: [{ folder: "/Photos", target: "t1", until: "2026-11-24T17:30:00Z" }],
  rules: [{ target: "t2", folder: "/Finance", mode: "digest", kinds: ["deleted"] }],
  digestAt: "08:30",
  sessionMinutes: 15,
};

describe("fullPreferences", () => {
  it("fills what the engine left out with its defaults, and copies the rest", () => {
    const full = fullPreferences({ language: "en", rules: [{ target: "t1" }] });
    expect(full).toEqual({
      notifyOwnChanges: false,
      quietHours: null,
      mutedPatterns: [],
      startAtLogin: false,
      language: "en",
      mutes: [],
      rules: [{ target: "t1", folder: null, mode: "live", kinds: [] }],
      digestAt: "09:00",
      sessionMinutes: 10,
    });
    const copy = fullPreferences(saved);
    expect(copy.rules).toEqual(saved.rules);
    copy.mutes[0].folder = "/Other";
    expect(saved.mutes?.[0].folder).toBe("/Photos");
  });
});

describe("withEdits", () => {
  it("round-trips every field, the new ones and ones this window does not know", () => {
    const fromShell = { ...saved, someFutureSetting: { keep: [1, 2] } } as Preferences;
    const out = withEdits(fromShell, { startAtLogin: true }) as Record<string, unknown>;
    expect(out).toEqual({ ...fromShell, startAtLogin: true });
    expect(out.someFutureSetting).toEqual({ keep: [1, 2] });
    expect(out.mutes).toEqual(saved.mutes);
    expect(out.rules).toEqual(saved.rules);
    expect(out.digestAt).toBe("08:30");
    expect(out.sessionMinutes).toBe(15);
  });
  it("replaces only the edited fields, null included, and never the caller's objects", () => {
    const out = withEdits(saved, { quietHours: null, rules: [] });
    expect(out.quietHours).toBeNull();
    expect(out.rules).toEqual([]);
    expect(out.mutes).toEqual(saved.mutes);
    (out.mutes as NonNullable<Preferences["mutes"]>)[0].folder = "/Changed";
    expect(saved.mutes?.[0].folder).toBe("/Photos");
  });
  it("invents nothing the engine did not send", () => {
    expect(withEdits({ language: "en" }, { sessionMinutes: 20 })).toEqual({ language: "en", sessionMinutes: 20 });
    expect(withEdits(null, {})).toEqual({});
  });
});

describe("activeMutes", () => {
  it("keeps mutes for good and those that end later, not expired ones", () => {
    const now = new Date("2026-11-24T17:00:00Z");
    const forGood = { folder: "/A", target: null, until: null };
    const later = { folder: "/B", target: "t1", until: "2026-11-24T18:00:00Z" };
    const over = { folder: "/C", target: "t1", until: "2026-11-24T16:59:59Z" };
    expect(activeMutes([forGood, later, over], now)).toEqual([forGood, later]);
  });
});

describe("normalFolder", () => {
  it("gives a leading slash and no trailing one, empty or / for the whole library", () => {
    expect(normalFolder(" Finance/ ")).toBe("/Finance");
    expect(normalFolder("/Finance/Reports")).toBe("/Finance/Reports");
    expect(normalFolder("")).toBeNull();
    expect(normalFolder("/")).toBeNull();
  });
});
