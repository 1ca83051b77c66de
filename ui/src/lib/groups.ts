/**
 * One row per burst or editing session in Recent changes, and the words such a row says.
 *
 * Why: the history gives every change the `group` it belongs to (the seq of the group's first
 * change); the list shows a group as one row ("Adele Vance added 40 files to /Photos/Offsite",
 * "Alice edited Budget.xlsx · 12 saves, 10:02–10:31") that expands to its changes. Rows are
 * formed again from whatever is loaded and matches the filter (pages, live additions), so a
 * group split over two pages becomes one row as soon as both are there, and a filtered list
 * shows the matching members only. Pure functions, unit-tested. Never reorders changes (rows
 * follow their newest member, members stay newest first), never drops or repeats one.
 */

import type { Change, ChangeKind } from "../bindings";
import { clockTime, folderOf } from "./format";
import { groupByDay } from "./changes";
import type { Locale, MessageKey } from "./i18n";

/** `single`: one change; `session`: saves of one file by one person; `burst`: anything else. */
export type RowKind = "single" | "session" | "burst";

export interface ChangeRow {
  /** Unique within the list: the day and the group. */
  key: string;
  group: number;
  kind: RowKind;
  /** The group's changes that are loaded and match, newest first; never empty. */
  changes: Change[];
}

export interface DaySection {
  /** Local calendar day, `YYYY-MM-DD`. */
  day: string;
  /** Unique within the list: the day, and how often it came before when it comes again. */
  key: string;
  rows: ChangeRow[];
}

/** The group a change belongs to; a change not yet given one (0 or absent) stands alone. */
export function groupOf(c: Change): number {
  return c.group !== undefined && c.group > 0 ? c.group : c.seq;
}

function rowKind(changes: readonly Change[]): RowKind {
  if (changes.length === 1) return "single";
  const first = changes[0];
  const oneFile = changes.every(
    (c) => c.kind === "modified" && c.target === first.target && c.itemId === first.itemId,
  );
  return oneFile ? "session" : "burst";
}

/**
 * Rows of one run of changes (newest first): a group's changes gather in the row of its newest
 * member, wherever other changes interleave with them.
 */
export function rowsOf(changes: readonly Change[], day = ""): ChangeRow[] {
  const rows: ChangeRow[] = [];
  const byGroup = new Map<number, ChangeRow>();
  for (const c of changes) {
    const group = groupOf(c);
    const row = byGroup.get(group);
    if (row) {
      row.changes.push(c);
    } else {
      const created: ChangeRow = { key: `${day}:${group}`, group, kind: "single", changes: [c] };
      byGroup.set(group, created);
      rows.push(created);
    }
  }
  for (const row of rows) row.kind = rowKind(row.changes);
  return rows;
}

/** The list's sections: changes by local day, and within a day one row per group. */
export function daySections(changes: readonly Change[], timeZone?: string): DaySection[] {
  // The same day can come twice (a change caught up late sits between newer ones).
  const seen = new Map<string, number>();
  return groupByDay(changes, timeZone).map((d) => {
    const n = seen.get(d.day) ?? 0;
    seen.set(d.day, n + 1);
    return { day: d.day, key: n === 0 ? d.day : `${d.day}#${n}`, rows: rowsOf(d.changes, d.day) };
  });
}

/** The folder every change of a row is in (the deepest one they share), e.g. `/Photos/Offsite`. */
export function commonFolder(changes: readonly Change[]): string {
  let common = folderOf(changes[0].path);
  for (const c of changes.slice(1)) {
    const folder = folderOf(c.path);
    while (common !== "/" && folder !== common && !folder.startsWith(`${common}/`)) {
      common = folderOf(common);
    }
  }
  return common;
}

/** files, folders or items (a mix), as the catalogs' `$noun` selects. */
export function nounOf(changes: readonly Change[]): "files" | "folders" | "items" {
  if (changes.every((c) => c.isFolder)) return "folders";
  if (changes.every((c) => !c.isFolder)) return "files";
  return "items";
}

/** The one kind all changes of a row share, or `null` for a mix. */
export function sharedKind(changes: readonly Change[]): ChangeKind | null {
  const kind = changes[0].kind;
  return changes.every((c) => c.kind === kind) ? kind : null;
}

export type Translate = (key: MessageKey, params?: Record<string, string | number>) => string;

export interface RowWords {
  /** The row's sentence: "Adele Vance added 40 files to /Photos/Offsite". */
  title: string;
  /** A session's saves and span ("12 saves, 10:02–10:31"); `null` for other rows. */
  detail: string | null;
}

/** Who made a row's changes, as the row says it. */
function whoOf(c: Change, t: Translate): string {
  if (c.own) return t("groupYou");
  return c.by ?? t("groupSomeone");
}

/**
 * The words of a session or burst row (a single change keeps the ordinary row). Names and
 * paths go in as text; the caller renders the result as text.
 */
export function describeRow(row: ChangeRow, t: Translate, locale: Locale, timeZone?: string): RowWords {
  const newest = row.changes[0];
  const who = whoOf(newest, t);
  if (row.kind === "session") {
    const oldest = row.changes[row.changes.length - 1];
    return {
      title: t("groupSession", { who, name: newest.name }),
      detail: t("groupSaves", {
        count: row.changes.length,
        time: `${clockTime(oldest.at, locale, timeZone)}–${clockTime(newest.at, locale, timeZone)}`,
      }),
    };
  }
  const folder = commonFolder(row.changes);
  const noun = nounOf(row.changes);
  const count = row.changes.length;
  const items = t("groupItems", { count, noun });
  const kind = sharedKind(row.changes) ?? "mixed";
  const shown = folder === "/" ? t("rootFolder") : folder;
  return { title: t(`groupBurst_${kind}`, { who, items, count, noun, folder: shown }), detail: null };
}
