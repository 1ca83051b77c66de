/**
 * The recent-changes list as data: filtering, merging live batches into loaded pages, and
 * grouping by day.
 *
 * Why: the engine filters history pages itself (`listChanges`), but changes that arrive live are
 * filtered here with the same rules so the list never shows something the filter excludes.
 * Pure functions, unit-tested. Never reorders by anything but `seq` (newest first) and never
 * keeps two entries with the same `seq`.
 */

import type { Change, ChangeKind, FocusDigest, HistoryQuery } from "../bindings";
import { dayKey } from "./format";

export const ALL_KINDS: readonly ChangeKind[] = ["created", "modified", "renamed", "moved", "deleted"];

/** What the user filters the list by; `where` is `account:<id>`, `target:<id>` or empty. */
export interface ChangeFilter {
  text: string;
  kinds: ChangeKind[];
  where: string;
}

export const EMPTY_FILTER: ChangeFilter = { text: "", kinds: [], where: "" };

export function isFilterEmpty(f: ChangeFilter): boolean {
  return f.text.trim() === "" && f.kinds.length === 0 && f.where === "";
}

/** A digest's changes: one target (or a folder of it) over a span, as `focusDigest` names them. */
export type DigestScope = FocusDigest;

/**
 * The engine query for one page under a filter; a digest scope narrows it to its target,
 * folder and span (and its target wins over the filter's).
 */
export function toQuery(f: ChangeFilter, before: number | null, limit = 50, scope: DigestScope | null = null): HistoryQuery {
  const text = f.text.trim();
  const query: HistoryQuery = {
    before,
    limit,
    text: text === "" ? null : text,
    kinds: [...f.kinds],
    account: f.where.startsWith("account:") ? f.where.slice("account:".length) : null,
    target: f.where.startsWith("target:") ? f.where.slice("target:".length) : null,
  };
  if (scope) {
    query.target = scope.target;
    query.folder = scope.folder;
    query.since = scope.since;
    query.until = scope.until;
  }
  return query;
}

/** Whether `path` is `folder` or below it, case-insensitively (`/` holds everything). */
export function inFolder(path: string, folder: string): boolean {
  const f = folder.replace(/\/+$/, "").toLocaleLowerCase();
  if (f === "") return true;
  const p = path.toLocaleLowerCase();
  return p === f || p.startsWith(`${f}/`);
}

/** Whether a live change belongs to a digest's list, as the engine's query would decide. */
export function matchesScope(c: Change, scope: DigestScope | null): boolean {
  if (!scope) return true;
  if (c.target !== scope.target) return false;
  if (scope.folder !== null && !inFolder(c.path, scope.folder)) return false;
  const at = new Date(c.at).getTime();
  return at >= new Date(scope.since).getTime() && at < new Date(scope.until).getTime();
}

/** Whether a change passes a filter: the same rules the engine applies to history pages. */
export function matchesFilter(c: Change, f: ChangeFilter): boolean {
  if (f.kinds.length > 0 && !f.kinds.includes(c.kind)) return false;
  if (f.where.startsWith("account:") && c.account !== f.where.slice(8)) return false;
  if (f.where.startsWith("target:") && c.target !== f.where.slice(7)) return false;
  const needle = f.text.trim().toLocaleLowerCase();
  if (needle !== "") {
    const hay = [c.name, c.path, c.oldPath ?? "", c.by ?? ""];
    if (!hay.some((h) => h.toLocaleLowerCase().includes(needle))) return false;
  }
  return true;
}

/**
 * Loaded changes plus new ones, newest first, each `seq` once (a newer copy of the same seq
 * replaces the older one).
 */
export function mergeChanges(loaded: readonly Change[], incoming: readonly Change[]): Change[] {
  const bySeq = new Map<number, Change>();
  for (const c of loaded) bySeq.set(c.seq, c);
  for (const c of incoming) bySeq.set(c.seq, c);
  return [...bySeq.values()].sort((a, b) => b.seq - a.seq);
}

export interface DayGroup {
  /** Local calendar day, `YYYY-MM-DD`. */
  day: string;
  changes: Change[];
}

/** Consecutive runs of changes on the same local day, in list order. */
export function groupByDay(changes: readonly Change[], timeZone?: string): DayGroup[] {
  const groups: DayGroup[] = [];
  for (const c of changes) {
    const day = dayKey(c.at, timeZone);
    const last = groups[groups.length - 1];
    if (last && last.day === day) last.changes.push(c);
    else groups.push({ day, changes: [c] });
  }
  return groups;
}
