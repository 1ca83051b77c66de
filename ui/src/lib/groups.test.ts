import { describe, expect, it } from "vitest";
import type { Change } from "../bindings";
import { EMPTY_FILTER, matchesFilter, mergeChanges } from "./changes";
import { commonFolder, daySections, describeRow, groupOf, nounOf, rowsOf, sharedKind } from "./groups";
import { translate, type Locale } from "./i18n";

function change(seq: number, over: Partial<Change> = {}): Change {
  return {
    seq,
    kind: "created",
    name: `IMG_${seq}.jpg`,
    path: `/Photos/Offsite/IMG_${seq}.jpg`,
    oldPath: null,
    isFolder: false,
    itemId: `item${seq}`,
    driveId: "drive1",
    by: "Adele Vance",
    own: false,
    at: "2026-11-24T10:00:00Z",
    webUrl: null,
    account: "acc1",
    target: "t1",
    caughtUp: false,
    group: seq,
    ...over,
  };
}

/** A burst: `count` photos added by Adele, seqs from `first` up, all in group `first`. */
function burst(first: number, count: number, over: Partial<Change> = {}): Change[] {
  return Array.from({ length: count }, (_, i) => change(first + i, { group: first, ...over })).reverse();
}

/** Alice saving Budget.xlsx `count` times, a minute apart from 10:02, seqs from `first`. */
function session(first: number, count: number): Change[] {
  return Array.from({ length: count }, (_, i) =>
    change(first + i, {
      kind: "modified",
      name: "Budget.xlsx",
      path: "/Finance/Budget.xlsx",
      itemId: "budget",
      by: "Alice Example",
      group: first,
      at: new Date(Date.UTC(2026, 10, 24, 10, 2 + i)).toISOString(),
    }),
  ).reverse();
}

const en = (key: string, params?: Record<string, string | number>) => translate("en", key, params);
const words = (locale: Locale) => (key: string, params?: Record<string, string | number>) => translate(locale, key, params);

describe("groupOf", () => {
  it("is the change's group, or its own seq before the history gave it one", () => {
    expect(groupOf(change(7, { group: 3 }))).toBe(3);
    expect(groupOf(change(7, { group: 0 }))).toBe(7);
    expect(groupOf(change(7, { group: undefined }))).toBe(7);
  });
});

describe("rowsOf", () => {
  it("makes one row per group, in the place of its newest change, even when others interleave", () => {
    const list = [change(9, { group: 5 }), change(8), change(7, { group: 5 }), change(6), change(5, { group: 5 })];
    const rows = rowsOf(list);
    expect(rows.map((r) => [r.group, r.changes.map((c) => c.seq)])).toEqual([
      [5, [9, 7, 5]],
      [8, [8]],
      [6, [6]],
    ]);
    expect(rows.flatMap((r) => r.changes)).toHaveLength(list.length);
  });
  it("tells a single change, an editing session and a burst apart", () => {
    expect(rowsOf([change(1)])[0].kind).toBe("single");
    expect(rowsOf(session(10, 3))[0].kind).toBe("session");
    expect(rowsOf(burst(20, 4))[0].kind).toBe("burst");
    // Saves of two files in one group are a burst of edits, not a session.
    const twoFiles = [change(31, { kind: "modified", group: 30 }), change(30, { kind: "modified", group: 30 })];
    expect(rowsOf(twoFiles)[0].kind).toBe("burst");
  });
});

describe("grouping over pages and live additions", () => {
  it("joins a group split over two pages into one row once both are loaded", () => {
    const all = burst(1, 40);
    const first = mergeChanges([], all.slice(0, 25));
    expect(daySections(first, "UTC")[0].rows.map((r) => r.changes.length)).toEqual([25]);
    const both = mergeChanges(first, all.slice(25));
    const rows = daySections(both, "UTC")[0].rows;
    expect(rows).toHaveLength(1);
    expect(rows[0].changes).toHaveLength(40);
    expect(describeRow(rows[0], en, "en", "UTC").title).toBe("Adele Vance added 40 files to /Photos/Offsite");
  });
  it("grows a row with a live change of its group, and gives a new group its own row", () => {
    const loaded = mergeChanges([], session(10, 3));
    const live = mergeChanges(loaded, [
      change(13, { kind: "modified", name: "Budget.xlsx", path: "/Finance/Budget.xlsx", itemId: "budget", by: "Alice Example", group: 10, at: "2026-11-24T10:09:00Z" }),
      change(14, { kind: "modified", name: "Budget.xlsx", path: "/Finance/Budget.xlsx", itemId: "budget", by: "Bob", group: 14, at: "2026-11-24T10:10:00Z" }),
    ]);
    const rows = daySections(live, "UTC")[0].rows;
    expect(rows.map((r) => [r.group, r.kind, r.changes.length])).toEqual([
      [14, "single", 1],
      [10, "session", 4],
    ]);
  });
  it("splits a group at midnight: each day has its own row", () => {
    const late = [change(3, { group: 1, at: "2026-11-25T00:01:00Z" }), change(2, { group: 1, at: "2026-11-24T23:59:00Z" }), change(1, { at: "2026-11-24T23:58:00Z" })];
    const sections = daySections(late, "UTC");
    expect(sections.map((s) => [s.day, s.rows.map((r) => r.changes.map((c) => c.seq))])).toEqual([
      ["2026-11-25", [[3]]],
      ["2026-11-24", [[2, 1]]],
    ]);
  });
  it("keys sections and rows uniquely when a day comes twice", () => {
    const list = [change(3, { at: "2026-11-24T10:00:00Z" }), change(2, { at: "2026-11-20T10:00:00Z", caughtUp: true }), change(1, { at: "2026-11-24T09:00:00Z" })];
    const sections = daySections(list, "UTC");
    expect(sections.map((s) => s.key)).toEqual(["2026-11-24", "2026-11-20", "2026-11-24#1"]);
    expect(new Set(sections.map((s) => s.key)).size).toBe(3);
  });
});

describe("filters inside groups", () => {
  it("shows a group as the row of its matching changes only", () => {
    const mixed = [
      ...burst(1, 5).map((c) => (c.seq % 2 === 0 ? { ...c, name: `holiday_${c.seq}.jpg`, path: `/Photos/Offsite/holiday_${c.seq}.jpg` } : c)),
    ];
    const matching = mixed.filter((c) => matchesFilter(c, { ...EMPTY_FILTER, text: "holiday" }));
    const rows = rowsOf(matching);
    expect(rows).toHaveLength(1);
    expect(rows[0].changes.map((c) => c.seq)).toEqual([4, 2]);
    expect(describeRow(rows[0], en, "en").title).toBe("Adele Vance added 2 files to /Photos/Offsite");
    // One match left of the group is an ordinary row.
    const one = mixed.filter((c) => matchesFilter(c, { ...EMPTY_FILTER, text: "img_5" }));
    expect(rowsOf(one)[0].kind).toBe("single");
  });
  it("shows the members of a kind filter within their group", () => {
    const list = [change(3, { group: 1, kind: "deleted" }), change(2, { group: 1, kind: "deleted" }), change(1, { kind: "deleted" })];
    const rows = rowsOf(list.filter((c) => matchesFilter(c, { ...EMPTY_FILTER, kinds: ["deleted"] })));
    expect(describeRow(rows[0], en, "en").title).toBe("Adele Vance deleted 3 files from /Photos/Offsite");
  });
});

describe("describeRow", () => {
  it("gives a session its save count and span", () => {
    const row = rowsOf(session(10, 12))[0];
    expect(describeRow(row, en, "en", "UTC")).toEqual({
      title: "Alice Example edited Budget.xlsx",
      detail: "12 saves, 10:02 AM–10:13 AM",
    });
    const ru = describeRow(row, words("ru"), "ru", "UTC");
    expect(ru.title).toBe("Правки файла Budget.xlsx · Alice Example");
    expect(ru.detail).toBe("12 сохранений, 10:02–10:13");
    expect(describeRow(rowsOf(session(10, 2))[0], words("ru"), "ru", "UTC").detail).toBe("2 сохранения, 10:02–10:03");
  });
  it("words a burst by kind, noun and who, in both languages", () => {
    const photos = rowsOf(burst(1, 40))[0];
    expect(describeRow(photos, words("ru"), "ru").title).toBe("Добавлено 40 файлов в /Photos/Offsite · Adele Vance");
    const folders = rowsOf(burst(1, 21, { isFolder: true, kind: "deleted" }))[0];
    expect(describeRow(folders, en, "en").title).toBe("Adele Vance deleted 21 folders from /Photos/Offsite");
    expect(describeRow(folders, words("ru"), "ru").title).toBe("Удалена 21 папка из /Photos/Offsite · Adele Vance");
    const mine = rowsOf(burst(1, 2, { own: true, kind: "moved" }))[0];
    expect(describeRow(mine, en, "en").title).toBe("You moved 2 files to /Photos/Offsite");
    const nobody = rowsOf(burst(1, 3, { by: null, kind: "renamed" }))[0];
    expect(describeRow(nobody, en, "en").title).toBe("Someone renamed 3 files in /Photos/Offsite");
  });
  it("says items for files and folders together, and a shared folder for nested ones", () => {
    const list = [
      change(3, { group: 1, path: "/Photos/Offsite/2026/a.jpg" }),
      change(2, { group: 1, isFolder: true, path: "/Photos/Offsite/2026" }),
      change(1, { path: "/Photos/Offsite/b.jpg", kind: "modified" }),
    ];
    const row = rowsOf(list)[0];
    expect(nounOf(row.changes)).toBe("items");
    expect(sharedKind(row.changes)).toBeNull();
    expect(commonFolder(row.changes)).toBe("/Photos/Offsite");
    expect(describeRow(row, en, "en").title).toBe("Adele Vance changed 3 items in /Photos/Offsite");
    expect(commonFolder([change(1, { path: "/A/x" }), change(2, { path: "/B/y" })])).toBe("/");
    expect(commonFolder([change(1, { path: "/Photo/x" }), change(2, { path: "/Photos/y" })])).toBe("/");
  });
  it("keeps hostile names as plain text", () => {
    const evil = "<img src=x onerror=alert(1)>";
    const row = rowsOf(session(1, 2).map((c) => ({ ...c, name: evil })))[0];
    expect(describeRow(row, en, "en").title).toBe(`Alice Example edited ${evil}`);
  });
});
