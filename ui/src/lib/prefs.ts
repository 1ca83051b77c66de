/**
 * Preferences with every field present, and the one way Settings changes them.
 *
 * Why: the engine's `Preferences` deserialises with defaults, so its generated type may mark
 * fields optional; the Settings screen wants concrete values. A save sends the preferences the
 * shell last gave with only the edited fields replaced, so a field this window does not know
 * (or does not edit) survives every save. Never invents a setting the engine does not have.
 */

import type { ChangeKind, Language, Mute, NotifyMode, NotifyRule, Preferences, QuietHours } from "../bindings";

export interface FullRule {
  target: string;
  folder: string | null;
  mode: NotifyMode;
  kinds: ChangeKind[];
}

export interface FullPreferences {
  notifyOwnChanges: boolean;
  quietHours: QuietHours | null;
  mutedPatterns: string[];
  startAtLogin: boolean;
  language: Language;
  mutes: Mute[];
  rules: FullRule[];
  digestAt: string;
  sessionMinutes: number;
}

/** The engine's defaults (`DEFAULT_DIGEST_AT`, `DEFAULT_SESSION_MINUTES`), shown until it says. */
export const DEFAULT_DIGEST_AT = "09:00";
export const DEFAULT_SESSION_MINUTES = 10;

export function fullRule(r: NotifyRule): FullRule {
  return { target: r.target ?? "", folder: r.folder ?? null, mode: r.mode ?? "live", kinds: [...(r.kinds ?? [])] };
}

export function fullPreferences(p: Preferences | null | undefined): FullPreferences {
  return {
    notifyOwnChanges: p?.notifyOwnChanges ?? false,
    quietHours: p?.quietHours ? { ...p.quietHours } : null,
    mutedPatterns: [...(p?.mutedPatterns ?? [])],
    startAtLogin: p?.startAtLogin ?? false,
    language: p?.language ?? "system",
    mutes: (p?.mutes ?? []).map((m) => ({ ...m })),
    rules: (p?.rules ?? []).map(fullRule),
    digestAt: p?.digestAt ?? DEFAULT_DIGEST_AT,
    sessionMinutes: p?.sessionMinutes ?? DEFAULT_SESSION_MINUTES,
  };
}

/**
 * What to save: the preferences as the shell gave them (every field, known to this window or
 * not) with the edited ones replaced.
 */
export function withEdits(current: Preferences | null | undefined, edits: Partial<FullPreferences>): Preferences {
  // A JSON copy: the values may be reactive proxies, which structuredClone refuses.
  const copy = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;
  const base: Record<string, unknown> = copy({ ...(current ?? {}) });
  for (const [key, value] of Object.entries(edits)) {
    if (value !== undefined) base[key] = copy(value);
  }
  return base as Preferences;
}

/** The mutes still in force at `now` (an expired one is ignored by the engine too). */
export function activeMutes(mutes: readonly Mute[], now: Date): Mute[] {
  return mutes.filter((m) => m.until === null || new Date(m.until).getTime() > now.getTime());
}

/** A folder as the engine compares it: leading slash, no trailing one; empty means none. */
export function normalFolder(text: string): string | null {
  const trimmed = text.trim().replace(/\/+$/, "");
  if (trimmed === "") return null;
  return trimmed.startsWith("/") ? trimmed : `/${trimmed}`;
}

export const DEFAULT_QUIET_HOURS: QuietHours = { start: "22:00", end: "07:00" };
