/**
 * A watched target's status in words a user can act on.
 *
 * Why: the engine reports `{ state: "throttled", until }` and the like; the Status screen says
 * what that means and what (if anything) the user should do. The engine's `reason` is shown as
 * text inside a sentence, never interpreted.
 */

import type { TargetStatus } from "../bindings";
import { clockTime, relativeTime } from "./format";
import { translate, type Locale, type MessageKey } from "./i18n";

export type Tone = "ok" | "busy" | "warn" | "bad" | "idle";

export interface StatusView {
  title: string;
  text: string;
  tone: Tone;
  /** Shown as an (indeterminate) progress bar while a resync runs. */
  progress: boolean;
  /** Whether only a new sign-in helps. */
  needsSignIn: boolean;
}

export function describeStatus(s: TargetStatus, locale: Locale, now: Date, timeZone?: string): StatusView {
  const t = (key: MessageKey, params?: Record<string, string | number>) => translate(locale, key, params);
  const base = { progress: false, needsSignIn: false };
  switch (s.state) {
    case "connecting":
      return { ...base, title: t("st_connecting"), text: t("st_connecting_text"), tone: "busy" };
    case "live":
      return { ...base, title: t("st_live"), text: t("st_live_text"), tone: "ok" };
    case "polling":
      return { ...base, title: t("st_polling"), text: t("st_polling_text", { reason: s.reason }), tone: "warn" };
    case "reconnecting":
      return {
        ...base,
        title: t("st_reconnecting"),
        text: t("st_reconnecting_text", { reason: s.reason }),
        tone: "busy",
      };
    case "throttled":
      return {
        ...base,
        title: t("st_throttled"),
        text: t("st_throttled_text", {
          time: clockTime(s.until, locale, timeZone),
          relative: relativeTime(s.until, now, locale),
        }),
        tone: "warn",
      };
    case "resyncing":
      return {
        ...base,
        title: t("st_resyncing"),
        // Numbers, not text: the catalog declines "items" and "pages" by them.
        text: t("st_resyncing_text", { items: s.items, pages: s.pages }),
        tone: "busy",
        progress: true,
      };
    case "needsSignIn":
      return { ...base, title: t("st_needsSignIn"), text: t("st_needsSignIn_text"), tone: "bad", needsSignIn: true };
    case "error":
      return { ...base, title: t("st_error"), text: t("st_error_text", { reason: s.reason }), tone: "bad" };
    case "stopped":
      return { ...base, title: t("st_stopped"), text: t("st_stopped_text"), tone: "idle" };
  }
}
