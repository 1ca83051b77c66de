import { describe, expect, it } from "vitest";
import type { Change } from "../bindings";
import { EMPTY_FILTER, groupByDay, inFolder, isFilterEmpty, matchesFilter, matchesScope, mergeChanges, toQuery } from "./changes";

function change(seq: number, over: Partial<Change> = {}): Change {
  return {
    seq,
    kind: "modified",
    name: `file${seq}.txt`,
    path: `/Docs/file${seq}.txt`,
    oldPath: null,
    isFolder: false,
    itemId: `item${seq}`,
    driveId: "drive1",
    by: "Alice Example",
    own: false,
    at: "2026-11-24T10:00:00Z",
    webUrl: null,
    account: "acc1",
    target: "t1",
    caughtUp: false,
    ...over,
  };
}

describe("matchesFilter", () => {
  it("passes everything with an empty filter", () => {
    expect(matchesFilter(change(1), EMPTY_FILTER)).toBe(true);
  });
  it("matches text case-insensitively on name, path, old path and who", () => {
    const c = change(1, { name: "Budget.XLSX", path: "/Finance/Budget.XLSX", oldPath: "/Archive/Old.xlsx", by: "Борис" });
    const f = (text: string) => ({ ...EMPTY_FILTER, text });
    expect(matchesFilter(c, f("budget"))).toBe(true);
    expect(matchesFilter(c, f("FINANCE"))).toBe(true);
    expect(matchesFilter(c, f("archive/old"))).toBe(true);
    expect(matchesFilter(c, f("борис"))).toBe(true);
    expect(matchesFilter(c, f("  budget  "))).toBe(true);
    expect(matchesFilter(c, f("report"))).toBe(false);
  });
  it("does not match a missing author or old path", () => {
    expect(matchesFilter(change(1, { by: null }), { ...EMPTY_FILTER, text: "alice" })).toBe(false);
  });
  it("filters by kinds, account and target", () => {
    const c = change(1, { kind: "deleted", account: "acc2", target: "t9" });
    expect(matchesFilter(c, { ...EMPTY_FILTER, kinds: ["created", "deleted"] })).toBe(true);
    expect(matchesFilter(c, { ...EMPTY_FILTER, kinds: ["created"] })).toBe(false);
    expect(matchesFilter(c, { ...EMPTY_FILTER, where: "account:acc2" })).toBe(true);
    expect(matchesFilter(c, { ...EMPTY_FILTER, where: "account:acc1" })).toBe(false);
    expect(matchesFilter(c, { ...EMPTY_FILTER, where: "target:t9" })).toBe(true);
    expect(matchesFilter(c, { ...EMPTY_FILTER, where: "target:t1" })).toBe(false);
  });
});

describe("toQuery", () => {
  it("turns a filter into the engine's page query", () => {
    expect(toQuery({ text: " q ", kinds: ["moved"], where: "target:t1" }, 120, 25)).toEqual({
      before: 120,
      limit: 25,
      text: "q",
      kinds: ["moved"],
      account: null,
      target: "t1",
    });
    expect(toQuery({ ...EMPTY_FILTER, where: "account:a" }, null)).toMatchObject({
      before: null,
      limit: 50,
      text: null,
      kinds: [],
      account: "a",
      target: null,
    });
  });
  it("knows when a filter is empty", () => {
    expect(isFilterEmpty(EMPTY_FILTER)).toBe(true);
    expect(isFilterEmpty({ ...EMPTY_FILTER, text: "   " })).toBe(true);
    expect(isFilterEmpty({ ...EMPTY_FILTER, kinds: ["created"] })).toBe(false);
  });
});

describe("mergeChanges", () => {
  it("keeps newest first and each seq once, the newer copy winning", () => {
    const merged = mergeChanges([change(5), change(3)], [change(7), change(3, { name: "renamed.txt" }), change(4)]);
    expect(merged.map((c) => c.seq)).toEqual([7, 5, 4, 3]);
    expect(merged.find((c) => c.seq === 3)?.name).toBe("renamed.txt");
  });
  it("does not modify its inputs", () => {
    const loaded = [change(2)];
    mergeChanges(loaded, [change(9)]);
    expect(loaded.map((c) => c.seq)).toEqual([2]);
  });
});

describe("groupByDay", () => {
  it("groups consecutive changes of one local day, in order", () => {
    const groups = groupByDay(
      [
        change(5, { at: "2026-11-24T10:00:00Z" }),
        change(4, { at: "2026-11-24T01:00:00Z" }),
        change(3, { at: "2026-11-23T23:00:00Z" }),
        change(2, { at: "2026-11-20T08:00:00Z" }),
      ],
      "UTC",
    );
    expect(groups.map((g) => [g.day, g.changes.map((c) => c.seq)])).toEqual([
      ["2026-11-24", [5, 4]],
      ["2026-11-23", [3]],
      ["2026-11-20", [2]],
    ]);
  });
  it("uses the local day of the time zone", () => {
    const groups = groupByDay(
      [change(2, { at: "2026-11-23T22:30:00Z" }), change(1, { at: "2026-11-23T20:00:00Z" })],
      "Europe/Moscow",
    );
    expect(groups.map((g) => g.day)).toEqual(["2026-11-24", "2026-11-23"]);
  });
  it("returns no groups for no changes", () => {
    expect(groupByDay([])).toEqual([]);
  });
});

describe("digest scope", () => {
  const scope = { target: "t1", folder: "/Finance", since: "2026-11-23T09:00:00Z", until: "2026-11-24T09:00:00Z" };
  it("narrows the page query to the digest's target, folder and span, over the filter's target", () => {
    expect(toQuery({ text: "q", kinds: [], where: "target:t9" }, 40, 50, scope)).toEqual({
      before: 40,
      limit: 50,
      text: "q",
      kinds: [],
      account: null,
      target: "t1",
      folder: "/Finance",
      since: "2026-11-23T09:00:00Z",
      until: "2026-11-24T09:00:00Z",
    });
    expect(toQuery(EMPTY_FILTER, null)).not.toHaveProperty("since");
  });
  it("lets a live change in when the engine's query would: target, folder or below, since ≤ at < until", () => {
    const at = "2026-11-24T08:59:59Z";
    expect(matchesScope(change(1, { target: "t1", path: "/finance/Q4/x.xlsx", at }), scope)).toBe(true);
    expect(matchesScope(change(1, { target: "t2", path: "/Finance/x.xlsx", at }), scope)).toBe(false);
    expect(matchesScope(change(1, { target: "t1", path: "/Financial/x.xlsx", at }), scope)).toBe(false);
    expect(matchesScope(change(1, { target: "t1", path: "/Finance/x.xlsx", at: "2026-11-24T09:00:00Z" }), scope)).toBe(false);
    expect(matchesScope(change(1, { target: "t1", path: "/Finance/x.xlsx", at: "2026-11-23T09:00:00Z" }), scope)).toBe(true);
    expect(matchesScope(change(1, { target: "t1", path: "/Other/x", at }), { ...scope, folder: null })).toBe(true);
    expect(matchesScope(change(1), null)).toBe(true);
  });
  it("knows a folder holds itself and what is below it", () => {
    expect(inFolder("/Finance", "/Finance/")).toBe(true);
    expect(inFolder("/a/b", "/")).toBe(true);
    expect(inFolder("/Fin", "/Finance")).toBe(false);
  });
});
