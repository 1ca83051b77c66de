/**
 * Preferences with every field present.
 *
 * Why: the engine's `Preferences` deserialises with defaults, so its generated type may mark
 * fields optional; the Settings screen wants concrete values. Never invents a setting the engine
 * does not have.
 */

import type { Language, Preferences, QuietHours } from "../bindings";

export interface FullPreferences {
  notifyOwnChanges: boolean;
  quietHours: QuietHours | null;
  mutedPatterns: string[];
  startAtLogin: boolean;
  language: Language;
}

export function fullPreferences(p: Preferences | null | undefined): FullPreferences {
  return {
    notifyOwnChanges: p?.notifyOwnChanges ?? false,
    quietHours: p?.quietHours ? { ...p.quietHours } : null,
    mutedPatterns: [...(p?.mutedPatterns ?? [])],
    startAtLogin: p?.startAtLogin ?? false,
    language: p?.language ?? "system",
  };
}

export const DEFAULT_QUIET_HOURS: QuietHours = { start: "22:00", end: "07:00" };
