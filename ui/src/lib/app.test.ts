import { beforeEach, describe, expect, it, vi } from "vitest";
import type { AppSnapshot, Change, HistoryQuery } from "../bindings";

// The shell, as the generated bindings expose it: commands are spies, events capture listeners.
const shell = vi.hoisted(() => {
  const listeners: Record<string, (e: { payload: unknown }) => void> = {};
  const event = (name: string) => ({
    listen: async (cb: (e: { payload: unknown }) => void) => {
      listeners[name] = cb;
      return () => {};
    },
  });
  return {
    listeners,
    emit: (name: string, payload: unknown) => listeners[name]?.({ payload }),
    commands: {} as Record<string, ReturnType<typeof vi.fn>>,
    events: {
      changesAdded: event("changesAdded"),
      targetStatusChanged: event("targetStatusChanged"),
      signInProgress: event("signInProgress"),
      snapshotChanged: event("snapshotChanged"),
      focusChange: event("focusChange"),
      focusDigest: event("focusDigest"),
    },
  };
});
vi.mock("../bindings", () => ({ commands: shell.commands, events: shell.events }));

function change(seq: number, over: Partial<Change> = {}): Change {
  return {
    seq,
    kind: "modified",
    name: `f${seq}.txt`,
    path: `/f${seq}.txt`,
    oldPath: null,
    isFolder: false,
    itemId: `i${seq}`,
    driveId: "d",
    by: null,
    own: false,
    at: "2026-11-24T10:00:00Z",
    webUrl: null,
    account: "a1",
    target: "t1",
    caughtUp: false,
    ...over,
  };
}

function snapshot(over: Partial<AppSnapshot> = {}): AppSnapshot {
  return {
    accounts: [{ id: "a1", displayName: "Alice", username: "alice@contoso.com", kind: "work", state: "signedIn" }],
    targets: [],
    preferences: { notifyOwnChanges: false, quietHours: null, mutedPatterns: [], startAtLogin: false, language: "system" },
    pausedUntil: null,
    demo: false,
    clientIdConfigured: true,
    signIn: null,
    unread: 0,
    ...over,
  };
}

/** A history of `n` changes served page by page the way the engine does. */
function serveHistory(n: number, pageSize = 10) {
  const all = Array.from({ length: n }, (_, i) => change(n - i));
  shell.commands.listChanges = vi.fn(async (q: HistoryQuery) => {
    const rows = all.filter((c) => q.before == null || c.seq < q.before).filter((c) => !q.text || c.name.includes(q.text))
      .filter((c) => !q.kinds?.length || q.kinds.includes(c.kind));
    const page = rows.slice(0, pageSize);
    return { status: "ok", data: { changes: page, nextBefore: rows.length > pageSize ? page[page.length - 1].seq : null } };
  });
}

async function fresh(snap = snapshot()) {
  vi.resetModules();
  shell.commands.getSnapshot = vi.fn(async () => snap);
  const { app } = await import("./app.svelte");
  await app.start(["en-US"]);
  return app;
}

beforeEach(() => {
  vi.useFakeTimers();
  for (const k of Object.keys(shell.commands)) delete shell.commands[k];
  serveHistory(25);
});

describe("starting", () => {
  it("opens the changes with accounts, the sign-in without, and resumes a sign-in in progress", async () => {
    expect((await fresh()).view).toBe("changes");
    expect((await fresh(snapshot({ accounts: [] }))).view).toBe("signIn");
    const prompt = { userCode: "AB-CD", verificationUri: "https://microsoft.com/devicelogin", expiresAt: "2026-11-24T10:15:00Z", message: "" };
    const app = await fresh(snapshot({ signIn: prompt }));
    expect(app.view).toBe("signIn");
    expect(app.signIn).toEqual({ phase: "prompt", prompt, offline: false });
  });
  it("loads the newest page and follows the system language", async () => {
    const app = await fresh();
    expect(app.items.map((c) => c.seq)).toEqual([25, 24, 23, 22, 21, 20, 19, 18, 17, 16]);
    expect(app.nextBefore).toBe(16);
    expect(app.locale).toBe("en");
    vi.resetModules();
    const { app: ru } = await import("./app.svelte");
    shell.commands.getSnapshot = vi.fn(async () => snapshot());
    await ru.start(["ru-RU"]);
    expect(ru.locale).toBe("ru");
    expect(ru.t("navSettings")).toBe("Настройки");
  });
});

describe("sign-in", () => {
  it("maps the shell's errors to the states the screen shows", async () => {
    const app = await fresh(snapshot({ accounts: [] }));
    shell.commands.startSignIn = vi.fn(async () => ({ status: "error", error: { kind: "network", message: "down" } }));
    await app.startSignIn("work");
    expect(app.signIn).toEqual({ phase: "offline" });
    shell.commands.startSignIn = vi.fn(async () => ({ status: "error", error: { kind: "accessDenied", message: "Your organisation blocks this app." } }));
    await app.startSignIn("work");
    expect(app.signIn).toEqual({ phase: "failed", message: "Your organisation blocks this app." });
    shell.commands.startSignIn = vi.fn(async () => ({ status: "error", error: { kind: "noClientId", message: "none" } }));
    await app.startSignIn("personal");
    expect(app.needsClientId).toBe(true);
    expect(app.signInKind).toBe("personal");
  });
  it("follows the shell's progress events", async () => {
    const app = await fresh(snapshot({ accounts: [] }));
    const prompt = { userCode: "AB-CD", verificationUri: "https://microsoft.com/devicelogin", expiresAt: "2026-11-24T10:15:00Z", message: "" };
    shell.commands.startSignIn = vi.fn(async () => ({ status: "ok", data: prompt }));
    await app.startSignIn("any");
    expect(app.signIn.phase).toBe("prompt");
    shell.emit("signInProgress", { kind: "offline" });
    expect(app.signIn).toEqual({ phase: "prompt", prompt, offline: true });
    shell.emit("signInProgress", { kind: "prompt", prompt });
    expect(app.signIn).toEqual({ phase: "prompt", prompt, offline: false });
    app.codeRanOut();
    expect(app.signIn).toEqual({ phase: "expired" });
    shell.emit("signInProgress", { kind: "declined" });
    expect(app.signIn).toEqual({ phase: "declined" });
    const account = snapshot().accounts[0];
    shell.emit("signInProgress", { kind: "signedIn", account });
    expect(app.signIn).toEqual({ phase: "signedIn", account });
  });
  it("ignores a late outcome of a cancelled sign-in", async () => {
    const app = await fresh(snapshot({ accounts: [] }));
    shell.commands.cancelSignIn = vi.fn(async () => null);
    app.signIn = { phase: "requesting" };
    await app.cancelSignIn();
    shell.emit("signInProgress", { kind: "failed", message: "cancelled by the user" });
    shell.emit("signInProgress", { kind: "expired" });
    expect(app.signIn).toEqual({ phase: "choose" });
    const account = snapshot().accounts[0];
    shell.emit("signInProgress", { kind: "signedIn", account });
    expect(app.signIn).toEqual({ phase: "signedIn", account });
  });
  it("goes back to the sign-in when the last account is signed out", async () => {
    const app = await fresh();
    app.view = "settings";
    shell.emit("snapshotChanged", snapshot({ accounts: [] }));
    expect(app.view).toBe("signIn");
  });
});

describe("history", () => {
  it("pages with `before` until the end", async () => {
    const app = await fresh();
    await app.loadMore();
    await app.loadMore();
    expect(app.items).toHaveLength(25);
    expect(app.exhausted).toBe(true);
    expect(shell.commands.listChanges.mock.calls.map(([q]) => q.before)).toEqual([null, 16, 6]);
    await app.loadMore();
    expect(shell.commands.listChanges).toHaveBeenCalledTimes(3);
  });
  it("does not retry automatically after an error, only when asked", async () => {
    const app = await fresh();
    const ok = shell.commands.listChanges;
    shell.commands.listChanges = vi.fn(async () => ({ status: "error", error: { kind: "internal", message: "locked" } }));
    await app.loadMore();
    expect(app.listError).toBe("Could not load changes: locked");
    shell.commands.listChanges = ok;
    await app.loadMore(true);
    expect(app.items).toHaveLength(10);
    await app.loadMore();
    expect(app.items).toHaveLength(20);
    expect(app.listError).toBeNull();
  });
  it("adds live changes that pass the filter, once, keeping the scroll position when scrolled", async () => {
    const app = await fresh();
    const restore = vi.fn();
    app.setAnchor({ capture: () => ({ atTop: false, restore }) });
    await app.setFilter({ text: "", kinds: ["created"], where: "" });
    await app.addLive([change(30, { kind: "created" }), change(31, { kind: "deleted" })]);
    expect(app.items.map((c) => c.seq)).toEqual([30]);
    expect(restore).toHaveBeenCalledTimes(1);
    expect(app.unseen).toBe(1);
    await app.addLive([change(30, { kind: "created" })]);
    expect(app.items.map((c) => c.seq)).toEqual([30]);
    expect(app.unseen).toBe(1);
  });
  it("at the top, live changes just appear", async () => {
    const app = await fresh();
    const restore = vi.fn();
    app.setAnchor({ capture: () => ({ atTop: true, restore }) });
    await app.addLive([change(40)]);
    expect(app.items[0].seq).toBe(40);
    expect(restore).not.toHaveBeenCalled();
    expect(app.unseen).toBe(0);
  });
  it("focuses a change by loading older pages without the filter", async () => {
    const app = await fresh();
    await app.setFilter({ text: "f2", kinds: [], where: "" });
    app.view = "status";
    await app.focus(3);
    expect(app.view).toBe("changes");
    expect(app.filter).toEqual({ text: "", kinds: [], where: "" });
    expect(app.items.some((c) => c.seq === 3)).toBe(true);
    expect(app.highlighted).toBe(3);
    expect(app.focusNonce).toBe(1);
  });
  it("keeps target status current from events", async () => {
    const app = await fresh(snapshot({ targets: [{ id: "t1", account: "a1", label: "OneDrive", spec: { type: "myDrive" }, status: { state: "connecting" } }] }));
    shell.emit("targetStatusChanged", { id: "t1", account: "a1", label: "OneDrive", spec: { type: "myDrive" }, status: { state: "live" } });
    shell.emit("targetStatusChanged", { id: "t2", account: "a1", label: "New", spec: { type: "myDrive" }, status: { state: "connecting" } });
    expect(app.snapshot?.targets.map((t) => [t.id, t.status.state])).toEqual([
      ["t1", "live"],
      ["t2", "connecting"],
    ]);
  });
});

describe("settings", () => {
  const target = { id: "t2", account: "a1", label: "Marketing", spec: { type: "myDrive" }, status: { state: "connecting" } } as const;

  it("takes the snapshot the shell answers a save or a pause with, and keeps a refusal for the caller", async () => {
    const app = await fresh();
    const prefs = { ...snapshot().preferences, notifyOwnChanges: true };
    shell.commands.savePreferences = vi.fn(async () => ({ status: "ok", data: snapshot({ preferences: prefs }) }));
    expect(await app.savePreferences(prefs)).toBeNull();
    expect(shell.commands.savePreferences).toHaveBeenCalledWith(prefs);
    expect(app.snapshot?.preferences.notifyOwnChanges).toBe(true);
    const refusal = { kind: "invalidInput", message: "quiet hours must be written as HH:MM" };
    shell.commands.savePreferences = vi.fn(async () => ({ status: "error", error: refusal }));
    expect(await app.savePreferences({ ...prefs, notifyOwnChanges: false })).toEqual(refusal);
    expect(app.snapshot?.preferences.notifyOwnChanges).toBe(true);

    shell.commands.setPause = vi.fn(async () => ({ status: "ok", data: snapshot({ pausedUntil: "2026-11-24T11:00:00Z" }) }));
    await app.setPause("oneHour");
    expect(shell.commands.setPause).toHaveBeenCalledWith("oneHour");
    expect(app.snapshot?.pausedUntil).toBe("2026-11-24T11:00:00Z");
    shell.commands.setPause = vi.fn(async () => ({ status: "error", error: { kind: "internal", message: "busy" } }));
    await app.setPause("resume");
    expect(app.snapshot?.pausedUntil).toBe("2026-11-24T11:00:00Z");
    expect(app.notice).toMatchObject({ tone: "error" });
    expect(app.notice?.text).toContain("busy");
  });

  it("adds a target once, trimmed, with a notice; a refused address changes nothing", async () => {
    const app = await fresh();
    shell.commands.addTarget = vi.fn(async () => ({ status: "ok", data: target }));
    expect(await app.addTarget("a1", "  https://contoso.sharepoint.com/sites/m  ")).toBeNull();
    expect(shell.commands.addTarget).toHaveBeenCalledWith("a1", "https://contoso.sharepoint.com/sites/m");
    // The snapshot event may have brought it already: never listed twice.
    await app.addTarget("a1", "https://contoso.sharepoint.com/sites/m");
    expect(app.snapshot?.targets.map((t) => t.id)).toEqual(["t2"]);
    expect(app.notice?.text).toContain("Marketing");
    const refusal = { kind: "invalidInput", message: "not a drive link" };
    shell.commands.addTarget = vi.fn(async () => ({ status: "error", error: refusal }));
    expect(await app.addTarget("a1", "x")).toEqual(refusal);
    expect(app.snapshot?.targets).toHaveLength(1);
  });

  it("removes targets and signs accounts out, back to the sign-in when none is left", async () => {
    const app = await fresh(snapshot({ targets: [target] }));
    shell.commands.removeTarget = vi.fn(async () => ({ status: "error", error: { kind: "notFound", message: "target not found" } }));
    await app.removeTarget("t2");
    expect(app.snapshot?.targets).toHaveLength(1);
    expect(app.notice).toMatchObject({ tone: "error" });
    shell.commands.removeTarget = vi.fn(async () => ({ status: "ok", data: null }));
    await app.removeTarget("t2");
    expect(app.snapshot?.targets).toEqual([]);

    app.snapshot!.targets = [target];
    app.view = "settings";
    shell.commands.signOut = vi.fn(async () => ({ status: "ok", data: null }));
    await app.signOut("a1");
    expect(shell.commands.signOut).toHaveBeenCalledWith("a1");
    expect(app.snapshot?.accounts).toEqual([]);
    expect(app.snapshot?.targets).toEqual([]);
    expect(app.view).toBe("signIn");
  });

  it("asks the shell to open the sign-in page and says when it could not", async () => {
    const app = await fresh(snapshot({ accounts: [] }));
    shell.commands.openVerificationPage = vi.fn(async () => ({ status: "error", error: { kind: "notFound", message: "no sign-in is in progress" } }));
    await app.openVerificationPage();
    expect(shell.commands.openVerificationPage).toHaveBeenCalledTimes(1);
    expect(app.notice).toMatchObject({ tone: "error" });
    expect(app.notice?.text).toContain("no sign-in is in progress");
  });
});

describe("attention", () => {
  const scope = { target: "t2", folder: "/Finance", since: "2026-11-23T09:00:00Z", until: "2026-11-24T09:00:00Z" };

  /** 30 changes in t2's /Finance during the digest's span and a few outside it, paged by 10. */
  function serveDigestHistory() {
    const inside = Array.from({ length: 30 }, (_, i) =>
      change(100 - i, { target: "t2", path: `/Finance/r${i}.xlsx`, at: new Date(Date.parse(scope.since) + (30 - i) * 60_000).toISOString() }),
    );
    const outside = [change(200, { target: "t1" }), change(150, { target: "t2", path: "/Other/x" })];
    const all = [...outside, ...inside].sort((a, b) => b.seq - a.seq);
    shell.commands.listChanges = vi.fn(async (q: HistoryQuery) => {
      const rows = all
        .filter((c) => q.before == null || c.seq < q.before)
        .filter((c) => !q.target || c.target === q.target)
        .filter((c) => !q.folder || c.path.toLowerCase().startsWith(`${q.folder.toLowerCase()}/`))
        .filter((c) => !q.since || c.at >= q.since)
        .filter((c) => !q.until || c.at < q.until);
      const page = rows.slice(0, 10);
      return { status: "ok", data: { changes: page, nextBefore: rows.length > 10 ? page[page.length - 1].seq : null } };
    });
  }

  it("shows a digest's changes, whole, on focusDigest; live changes outside it stay out; back shows all", async () => {
    const app = await fresh();
    serveDigestHistory();
    app.view = "settings";
    await app.setFilter({ text: "r1", kinds: [], where: "target:t1" });
    shell.emit("focusDigest", scope);
    await vi.waitFor(() => expect(app.exhausted).toBe(true));
    expect(app.view).toBe("changes");
    expect(app.digest).toEqual(scope);
    expect(app.filter).toEqual({ text: "", kinds: [], where: "" });
    expect(app.items).toHaveLength(30);
    const queries = shell.commands.listChanges.mock.calls.map(([q]) => q as HistoryQuery).slice(-3);
    expect(queries.every((q) => q.target === "t2" && q.folder === "/Finance" && q.since === scope.since && q.until === scope.until)).toBe(true);

    await app.addLive([change(300, { target: "t2", path: "/Finance/late.xlsx", at: "2026-11-24T10:00:00Z" })]);
    await app.addLive([change(301, { target: "t2", path: "/Finance/in.xlsx", at: "2026-11-24T08:00:00Z" })]);
    expect(app.items.map((c) => c.seq)).toContain(301);
    expect(app.items.map((c) => c.seq)).not.toContain(300);

    // A filter within the digest keeps it, and its list stays whole.
    await app.setFilter({ text: "", kinds: ["modified"], where: "" });
    expect(app.digest).toEqual(scope);
    expect(app.exhausted).toBe(true);
    expect(app.items).toHaveLength(30);

    await app.leaveDigest();
    expect(app.digest).toBeNull();
    expect(shell.commands.listChanges.mock.calls.at(-1)?.[0]).toMatchObject({ target: null, before: null });
    expect(app.items.map((c) => c.seq)).toContain(200);
  });

  it("mutes a folder through the shell with a notice, and unmutes", async () => {
    const app = await fresh();
    const mute = { folder: "/Photos", target: "t1", until: "2026-11-24T11:00:00Z" };
    shell.commands.muteFolder = vi.fn(async () => ({ status: "ok", data: snapshot({ preferences: { mutes: [mute] } }) }));
    await app.muteFolder("t1", "/Photos", "oneHour", "/Photos");
    expect(shell.commands.muteFolder).toHaveBeenCalledWith("t1", "/Photos", "oneHour");
    expect(app.snapshot?.preferences.mutes).toEqual([mute]);
    expect(app.notice?.text).toBe("Notifications from /Photos are muted.");

    shell.commands.unmute = vi.fn(async () => ({ status: "ok", data: snapshot({ preferences: { mutes: [] } }) }));
    await app.unmute(mute);
    expect(shell.commands.unmute).toHaveBeenCalledWith(mute);
    expect(app.snapshot?.preferences.mutes).toEqual([]);

    shell.commands.muteFolder = vi.fn(async () => ({ status: "error", error: { kind: "internal", message: "disk full" } }));
    await app.muteFolder("t1", "/Photos", "always", "/Photos");
    expect(app.notice).toMatchObject({ tone: "error", text: "Could not mute: disk full" });
  });

  it("takes the shell's snapshot when the list is seen, and shrugs off a failure", async () => {
    const app = await fresh(snapshot({ unread: 12 }));
    shell.commands.markSeen = vi.fn(async () => snapshot({ unread: 0 }));
    await app.markSeen();
    expect(shell.commands.markSeen).toHaveBeenCalledTimes(1);
    expect(app.snapshot?.unread).toBe(0);
    shell.commands.markSeen = vi.fn(async () => Promise.reject(new Error("window closing")));
    await app.markSeen();
    expect(app.notice).toBeNull();
  });

  it("expands the group of a change it focuses, and toggles groups", async () => {
    const app = await fresh();
    await app.addLive([change(41, { group: 40 }), change(40, { group: 40 })]);
    await app.focus(41);
    expect(app.expanded.has(40)).toBe(true);
    await app.toggleGroup(40);
    expect(app.expanded.has(40)).toBe(false);
  });

  it("loads the rest of a group when its row expands, under the filter", async () => {
    const app = await fresh();
    // 25 changes paged by 10: the group 3..25 reaches past the first page.
    const listed = shell.commands.listChanges;
    shell.commands.listChanges = vi.fn(async (q: HistoryQuery) => {
      if (q.group == null) return listed(q);
      const members = Array.from({ length: 23 }, (_, i) => change(25 - i, { group: 3 })).filter((c) => q.before == null || c.seq < q.before);
      const page = members.slice(0, 10);
      return { status: "ok", data: { changes: page, nextBefore: members.length > 10 ? page[page.length - 1].seq : null } };
    });
    await app.setFilter({ text: "f", kinds: [], where: "" });
    expect(app.items).toHaveLength(10);
    await app.toggleGroup(3);
    expect(app.expanded.has(3)).toBe(true);
    const groupQueries = shell.commands.listChanges.mock.calls.map(([q]) => q as HistoryQuery).filter((q) => q.group === 3);
    expect(groupQueries.map((q) => q.before)).toEqual([null, 16, 6]);
    expect(groupQueries.every((q) => q.text === "f")).toBe(true);
    expect(app.items.filter((c) => c.group === 3)).toHaveLength(23);
    expect(new Set(app.items.map((c) => c.seq)).size).toBe(app.items.length);
  });
});
