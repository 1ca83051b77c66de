/**
 * Dates, times, durations and paths as a person reads them, in the UI's locale.
 *
 * Why: the engine speaks RFC 3339 UTC timestamps and full drive paths; the window shows
 * "5 minutes ago", "Today", "14:32" and a folder. Pure functions over an explicit `now`, so the
 * unit tests pin the clock. Never throws on a malformed timestamp from the engine: it shows the
 * raw text instead.
 */

import type { Locale } from "./i18n";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

function parse(iso: string): Date | null {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** "just now", "5 minutes ago", "in 3 hours", "yesterday", in the given locale. */
export function relativeTime(iso: string, now: Date, locale: Locale): string {
  const d = parse(iso);
  if (!d) return iso;
  const diff = d.getTime() - now.getTime();
  const abs = Math.abs(diff);
  const rtf = new Intl.RelativeTimeFormat(locale, { numeric: "auto" });
  if (abs < 45_000) return rtf.format(0, "second");
  if (abs < HOUR) return rtf.format(Math.round(diff / MINUTE), "minute");
  if (abs < DAY) return rtf.format(Math.round(diff / HOUR), "hour");
  if (abs < 30 * DAY) return rtf.format(Math.round(diff / DAY), "day");
  if (abs < 365 * DAY) return rtf.format(Math.round(diff / (30 * DAY)), "month");
  return rtf.format(Math.round(diff / (365 * DAY)), "year");
}

/** The full local date and time, for a tooltip: "Tuesday, 24 November 2026 at 14:32:05". */
export function exactTime(iso: string, locale: Locale, timeZone?: string): string {
  const d = parse(iso);
  if (!d) return iso;
  return new Intl.DateTimeFormat(locale, {
    dateStyle: "full",
    timeStyle: "medium",
    timeZone,
  }).format(d);
}

/** The local time of day, "14:32". */
export function clockTime(iso: string, locale: Locale, timeZone?: string): string {
  const d = parse(iso);
  if (!d) return iso;
  return new Intl.DateTimeFormat(locale, { hour: "2-digit", minute: "2-digit", timeZone }).format(d);
}

/** A local calendar day as `YYYY-MM-DD`, the key changes are grouped by. */
export function dayKey(iso: string, timeZone?: string): string {
  const d = parse(iso);
  if (!d) return "unknown";
  // en-CA formats dates as YYYY-MM-DD.
  return new Intl.DateTimeFormat("en-CA", {
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    timeZone,
  }).format(d);
}

/**
 * The heading of a day group: "Today", "Yesterday", else the weekday and date (with the year
 * only when it is not the current one).
 */
export function dayLabel(
  key: string,
  now: Date,
  locale: Locale,
  words: { today: string; yesterday: string },
  timeZone?: string,
): string {
  const todayKey = dayKey(now.toISOString(), timeZone);
  const yesterdayKey = dayKey(new Date(now.getTime() - DAY).toISOString(), timeZone);
  if (key === todayKey) return words.today;
  if (key === yesterdayKey) return words.yesterday;
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(key);
  if (!m) return key;
  // Noon UTC of that day stays on the same calendar day in every time zone we format in.
  const date = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), 12));
  const sameYear = m[1] === todayKey.slice(0, 4);
  return new Intl.DateTimeFormat(locale, {
    weekday: "long",
    day: "numeric",
    month: "long",
    year: sameYear ? undefined : "numeric",
    timeZone: "UTC",
  }).format(date);
}

/** A countdown as "m:ss" (or "h:mm:ss"), never negative. */
export function countdown(msLeft: number): string {
  const total = Math.max(0, Math.ceil(msLeft / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const ss = String(s).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
}

/** The folder holding an item: `/Finance/Budget.xlsx` → `/Finance`, `/a.txt` → `/`. */
export function folderOf(path: string): string {
  const trimmed = path.length > 1 && path.endsWith("/") ? path.slice(0, -1) : path;
  const i = trimmed.lastIndexOf("/");
  if (i <= 0) return "/";
  return trimmed.slice(0, i);
}

/** A count with the locale's digit grouping: 12 345. */
export function formatCount(n: number, locale: Locale): string {
  return new Intl.NumberFormat(locale).format(n);
}

/**
 * One end of a span as a digest names it: "yesterday 09:00", "today 09:00", else the day and
 * time. The day words come lowercased, as they stand inside a sentence.
 */
export function spanEnd(
  iso: string,
  now: Date,
  locale: Locale,
  words: { today: string; yesterday: string },
  timeZone?: string,
): string {
  if (!parse(iso)) return iso;
  const lower = { today: words.today.toLocaleLowerCase(locale), yesterday: words.yesterday.toLocaleLowerCase(locale) };
  return `${dayLabel(dayKey(iso, timeZone), now, locale, lower, timeZone)} ${clockTime(iso, locale, timeZone)}`;
}

/**
 * When a mute ends, short: the time of day when that is today, else the weekday (and date when
 * it is more than a week away) with the time.
 */
export function untilTime(iso: string, now: Date, locale: Locale, timeZone?: string): string {
  const d = parse(iso);
  if (!d) return iso;
  if (dayKey(iso, timeZone) === dayKey(now.toISOString(), timeZone)) return clockTime(iso, locale, timeZone);
  const far = d.getTime() - now.getTime() > 6 * DAY;
  return new Intl.DateTimeFormat(locale, {
    weekday: "short",
    day: far ? "numeric" : undefined,
    month: far ? "short" : undefined,
    hour: "2-digit",
    minute: "2-digit",
    timeZone,
  }).format(d);
}
