// Browser tests of the built UI: Debian's Chromium driven by playwright-core, the Tauri IPC
// replaced by a scripted backend (mock-ipc.js). Covers every screen and state, the XSS case,
// keyboard-only use, and saves screenshots (light/dark × English/Russian) for review.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdir } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { serve } from "./server.mjs";
import { NOW, change, history, snapshot } from "./fixtures.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const DIST = resolve(here, "../../dist");
const ARTIFACTS = resolve(here, "../../../tests/artifacts/ui");
const MOCK = join(here, "mock-ipc.js");
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

let browser;
let server;

before(async () => {
  await mkdir(ARTIFACTS, { recursive: true });
  server = await serve(DIST);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    // playwright-core gives every launch a fresh temporary profile (user data dir).
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
});

after(async () => {
  await browser?.close();
  await server?.close();
});

/**
 * Opens the UI against a scenario. Fails the calling test on any page error, console error or
 * CSP violation when `check()` is called at the end.
 */
async function open(scenario = {}, { locale = "en-US", colorScheme = "light", width = 1000, height = 720 } = {}) {
  const context = await browser.newContext({
    locale,
    colorScheme,
    timezoneId: "UTC",
    viewport: { width, height },
    reducedMotion: "reduce",
  });
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: server.url });
  // Only the local server: anything else the page tried to fetch would fail the test.
  const offsite = [];
  await context.route(/^(?!http:\/\/127\.0\.0\.1[:/])/, (route) => {
    offsite.push(route.request().url());
    return route.abort();
  });
  context.setDefaultTimeout(8000);
  const page = await context.newPage();
  const problems = [];
  page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(`console: ${m.text()}`);
  });
  const dialogs = [];
  page.on("dialog", (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  await page.clock.install({ time: NOW });
  const full = { snapshot: snapshot(), history: history(), ...scenario };
  await page.addInitScript((s) => {
    window.__DW_SCENARIO__ = s;
  }, full);
  await page.addInitScript({ path: MOCK });
  // The desktop window runs with Tauri's `freezePrototype`; so does every test.
  await page.addInitScript(() => Object.freeze(Object.prototype));
  await page.goto(server.url);
  await page.waitForSelector('body[data-ready="true"]');
  const calls = (cmd) => page.evaluate((c) => window.__dw.calls.filter((x) => x.cmd === c).map((x) => x.args), cmd);
  const emit = (event, payload) => page.evaluate(([e, p]) => window.__dw.emit(e, p), [event, payload]);
  async function check() {
    const csp = await page.evaluate(() => window.__dw.csp);
    assert.deepEqual(problems, [], "no page or console errors");
    assert.deepEqual(csp, [], "no CSP violations");
    assert.deepEqual(dialogs, [], "no dialogs");
    assert.deepEqual(offsite, [], "no requests off 127.0.0.1");
    await context.close();
  }
  return { page, context, calls, emit, check, dialogs };
}

/**
 * Runs in the page: every visible element with its own text whose colour has a WCAG contrast
 * ratio below 4.5 against the first opaque background behind it (disabled controls excepted).
 */
function lowContrastText() {
  const rgb = (c) => (c.match(/[\d.]+/g) ?? []).map(Number);
  const lum = ([r, g, b]) => {
    const ch = (v) => {
      const s = v / 255;
      return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    };
    return 0.2126 * ch(r) + 0.7152 * ch(g) + 0.0722 * ch(b);
  };
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3] === 1)) return c.slice(0, 3);
    }
    return rgb(getComputedStyle(document.documentElement).backgroundColor).slice(0, 3);
  };
  const out = [];
  for (const el of document.querySelectorAll("body *")) {
    const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim() !== "");
    if (!own || el.closest(".sr-only") || el.closest("[disabled]") || el.closest(".skip")) continue;
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    const fg = rgb(getComputedStyle(el).color).slice(0, 3);
    const [a, b] = [lum(fg), lum(background(el))].sort((x, y) => y - x);
    const ratio = (a + 0.05) / (b + 0.05);
    if (ratio < 4.5) out.push(`${el.tagName.toLowerCase()}.${el.className} "${el.textContent.trim().slice(0, 30)}" ${ratio.toFixed(2)}`);
  }
  return out;
}

const shot = (page, name) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });
const visibleText = (page, selector) => page.locator(selector).innerText();

describe("sign-in", () => {
  it("works with the keyboard alone, from account type to the signed-in name", async () => {
    const { page, calls, emit, check } = await open({ snapshot: snapshot({ accounts: [], targets: [] }) });
    await page.getByRole("heading", { name: "Sign in to Microsoft" }).waitFor();
    // From a fresh window: the skip link, then the account type radios.
    await page.keyboard.press("Tab");
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), "Skip to content");
    await page.keyboard.press("Tab");
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute("name")), "account-kind");
    // "Either" is preselected; the arrow keys move within the group.
    await page.keyboard.press("ArrowUp");
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute("value")), "work");
    await page.keyboard.press("Tab");
    assert.equal(await page.evaluate(() => document.activeElement?.textContent?.trim()), "Get a sign-in code");
    await page.keyboard.press("Enter");
    await page.getByRole("status", { name: "" }).first().waitFor();
    const code = page.locator("output.user-code");
    await code.waitFor();
    assert.equal(await code.innerText(), "K7QF-M2XB");
    assert.deepEqual(await calls("start_sign_in"), [{ kind: "work" }]);
    assert.match(await visibleText(page, ".countdown"), /The code expires in 1[45]:\d\d/);
    assert.equal(await visibleText(page, ".verification-uri"), "Or, on any device, go to https://microsoft.com/devicelogin");
    assert.equal(await page.locator(".signin a").count(), 0, "the address is text: the shell opens it");

    // Tab: Copy, then Open the sign-in page.
    await page.keyboard.press("Tab");
    assert.equal(await page.evaluate(() => document.activeElement?.textContent?.trim()), "Copy");
    await page.keyboard.press("Enter");
    await page.getByRole("button", { name: "Copied" }).waitFor();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), "K7QF-M2XB");
    await page.keyboard.press("Tab");
    assert.equal(await page.evaluate(() => document.activeElement?.textContent?.trim()), "Open the sign-in page");
    await page.keyboard.press("Enter");
    await page.waitForFunction(() => window.__dw.calls.some((c) => c.cmd === "open_verification_page"));

    const account = { id: "acc-new", displayName: "Dana Scully", username: "dana@contoso.com", kind: "work", state: "signedIn" };
    await emit("snapshot-changed", snapshot({ accounts: [account], targets: [] }));
    await emit("sign-in-progress", { kind: "signedIn", account });
    await page.getByRole("heading", { name: "Signed in" }).waitFor();
    assert.equal(await visibleText(page, ".signed-in"), "Signed in as Dana Scully (dana@contoso.com)");
    await page.keyboard.press("Tab");
    await page.keyboard.press("Enter");
    await page.getByRole("navigation", { name: "Main" }).waitFor();
    assert.equal(await page.locator(".tab[aria-current=page]").innerText(), "Recent changes");
    await check();
  });

  it("shows the code large with a live countdown, and one click gets a new code once it expires", async () => {
    const { page, calls, check } = await open({ snapshot: snapshot({ accounts: [], targets: [] }) });
    await page.getByRole("button", { name: "Get a sign-in code" }).click();
    await page.locator("output.user-code").waitFor();
    const size = await page.locator("output.user-code").evaluate((e) => parseFloat(getComputedStyle(e).fontSize));
    assert.ok(size >= 30, `user code is large (${size}px)`);
    await page.clock.fastForward("10:00");
    assert.match(await visibleText(page, ".countdown"), /The code expires in [45]:\d\d/);
    await page.clock.fastForward("05:05");
    await page.getByRole("heading", { name: "The code has expired" }).waitFor();
    await page.getByRole("button", { name: "Get a new code" }).click();
    await page.locator("output.user-code").waitFor();
    assert.equal((await calls("start_sign_in")).length, 2);
    await check();
  });

  it("says when the sign-in was declined, and tries again on request", async () => {
    const { page, emit, calls, check } = await open({ snapshot: snapshot({ accounts: [], targets: [] }) });
    await page.getByRole("button", { name: "Get a sign-in code" }).click();
    await page.locator("output.user-code").waitFor();
    await emit("sign-in-progress", { kind: "declined" });
    await page.getByRole("heading", { name: "Sign-in was declined" }).waitFor();
    await page.getByRole("button", { name: "Try again" }).click();
    await page.locator("output.user-code").waitFor();
    assert.equal((await calls("start_sign_in")).length, 2);
    await check();
  });

  it("explains being offline, both while a code is shown and when no code could be had", async () => {
    const { page, emit, check } = await open({
      snapshot: snapshot({ accounts: [], targets: [] }),
      failures: { start_sign_in: [{ kind: "network", message: "network unreachable" }] },
    });
    await page.getByRole("button", { name: "Get a sign-in code" }).click();
    await page.getByRole("heading", { name: "You seem to be offline" }).waitFor();
    await page.getByRole("button", { name: "Try again" }).click();
    await page.locator("output.user-code").waitFor();
    await emit("sign-in-progress", { kind: "offline" });
    await page.getByRole("alert").filter({ hasText: "You seem to be offline" }).waitFor();
    assert.equal(await page.locator("output.user-code").isVisible(), true, "the code stays usable");
    await emit("sign-in-progress", { kind: "failed", message: "AADSTS70000: the grant is invalid" });
    await page.getByRole("heading", { name: "Sign-in failed" }).waitFor();
    assert.match(await visibleText(page, ".signin"), /AADSTS70000: the grant is invalid/);
    await check();
  });

  it("resumes a sign-in already in progress when the window opens", async () => {
    const prompt = { userCode: "RESU-MED1", verificationUri: "https://microsoft.com/devicelogin", expiresAt: new Date(NOW.getTime() + 300_000).toISOString(), message: "" };
    const { page, calls, check } = await open({ snapshot: snapshot({ signIn: prompt }) });
    assert.equal(await page.locator("output.user-code").innerText(), "RESU-MED1");
    await page.getByRole("button", { name: "Cancel" }).click();
    await page.getByRole("button", { name: "Get a sign-in code" }).waitFor();
    assert.equal((await calls("cancel_sign_in")).length, 1);
    await check();
  });

  it("without a client id explains what to do and takes a valid one", async () => {
    const { page, calls, check } = await open({ snapshot: snapshot({ accounts: [], targets: [], clientIdConfigured: false }) });
    await page.getByRole("heading", { name: "DriveWatch needs an application ID" }).waitFor();
    assert.match(await visibleText(page, ".signin"), /README/);
    const field = page.getByLabel("Application (client) ID");
    await field.fill("not-a-guid");
    await page.getByRole("button", { name: "Save" }).click();
    await page.getByRole("alert").filter({ hasText: "This is not an application ID" }).waitFor();
    assert.equal(await field.getAttribute("aria-invalid"), "true");
    assert.equal((await calls("set_client_id")).length, 0, "an invalid id is not sent");
    await field.fill("2f4a9b3c-1d2e-4f5a-8b9c-0d1e2f3a4b5c");
    await page.getByRole("button", { name: "Save" }).click();
    await page.getByRole("button", { name: "Get a sign-in code" }).waitFor();
    assert.deepEqual(await calls("set_client_id"), [{ clientId: "2f4a9b3c-1d2e-4f5a-8b9c-0d1e2f3a4b5c" }]);
    await check();
  });

  it("switches to the client id screen when the shell reports none at sign-in", async () => {
    const { page, check } = await open({ snapshot: snapshot({ accounts: [], targets: [] }) });
    await page.evaluate(() => {
      window.__dw.state.clientIdConfigured = false;
    });
    await page.getByRole("button", { name: "Get a sign-in code" }).click();
    await page.getByRole("heading", { name: "DriveWatch needs an application ID" }).waitFor();
    await check();
  });
});

describe("recent changes", () => {
  it("groups by day with an icon, name, folder, who and relative time per change", async () => {
    const { page, check } = await open();
    assert.deepEqual(await page.locator(".day-title").allInnerTexts(), ["TODAY", "YESTERDAY"]);
    const first = page.locator("li.change").first();
    assert.equal(await first.getAttribute("data-seq"), "140");
    // seq 140: kind index 0 (created), name index 0.
    assert.equal(await first.locator(".change-name").innerText(), "Budget 2027.xlsx");
    assert.equal(await first.locator(".change-kind svg.kind-icon").count(), 1);
    assert.match(await first.locator(".change-meta").innerText(), /in \/Finance/);
    assert.match(await first.locator(".change-meta").innerText(), /by Alice Example/);
    assert.equal(await first.locator("time").innerText(), "2 minutes ago");
    assert.equal(await first.locator("time").getAttribute("title"), "Tuesday, November 24, 2026 at 2:28:00 PM");
    for (const kind of ["created", "modified", "renamed", "moved", "deleted"]) {
      assert.ok((await page.locator(`.change-kind.kind-${kind} svg`).count()) > 0, `icon for ${kind}`);
    }
    // seq 132: a rename the user made themselves.
    const renamed = page.locator('li.change[data-seq="132"]');
    assert.match(await renamed.innerText(), /from \/Planning\/Old Q4 Plan\.docx/);
    assert.match(await renamed.innerText(), /by you/);
    assert.match(await page.locator('li.change[data-seq="138"]').innerText(), /from \/Inbox\/Contract draft\.pdf/);
    const caught = page.locator("li.change.caught-up");
    assert.equal(await caught.count(), 4);
    assert.match(await caught.first().innerText(), /While DriveWatch was closed/);
    await check();
  });

  it("opens the item on click and its folder with the second action", async () => {
    const { page, calls, check } = await open();
    await page.getByRole("button", { name: "Open Roadmap.pptx in the browser" }).first().click();
    await page.getByRole("button", { name: "Open the folder of Roadmap.pptx in the browser" }).first().click();
    assert.deepEqual(await calls("open_change"), [
      { seq: 134, folder: false },
      { seq: 134, folder: true },
    ]);
    await page.evaluate(() => window.__dw.failNext("open_change", { kind: "notFound", message: "The item no longer exists." }));
    await page.getByRole("button", { name: "Open Roadmap.pptx in the browser" }).first().click();
    await page.getByRole("alert").filter({ hasText: "Could not open: The item no longer exists." }).waitFor();
    await check();
  });

  it("filters by text, kind, and account or library", async () => {
    const { page, calls, check } = await open();
    await page.getByRole("searchbox", { name: "Search" }).fill("roadmap");
    await page.waitForFunction(() => window.__dw.calls.some((c) => c.cmd === "list_changes" && c.args.query.text === "roadmap"));
    await page.waitForFunction(() => [...document.querySelectorAll(".change-name")].every((e) => e.textContent === "Roadmap.pptx"));
    assert.ok((await page.locator("li.change").count()) > 0);

    await page.getByRole("button", { name: "Clear filters" }).click();
    await page.getByRole("button", { name: "Deleted", exact: true }).click();
    assert.equal(await page.getByRole("button", { name: "Deleted", exact: true }).getAttribute("aria-pressed"), "true");
    await page.waitForFunction(() => document.querySelectorAll("li.change").length > 0 && [...document.querySelectorAll(".change-kind")].every((e) => e.classList.contains("kind-deleted")));

    await page.getByRole("combobox", { name: "Account or library" }).selectOption("target:t-photos");
    await page.waitForFunction(() => window.__dw.calls.some((c) => c.cmd === "list_changes" && c.args.query.target === "t-photos"));
    const last = (await calls("list_changes")).at(-1).query;
    assert.deepEqual({ kinds: last.kinds, target: last.target, account: last.account }, { kinds: ["deleted"], target: "t-photos", account: null });

    await page.getByRole("combobox", { name: "Account or library" }).selectOption("account:acc-alexey");
    await page.waitForFunction(() => window.__dw.calls.at(-1).args.query?.account === "acc-alexey");

    await page.getByRole("searchbox", { name: "Search" }).fill("no such file anywhere");
    await page.getByText("No changes match these filters.").waitFor();
    await check();
  });

  it("loads older pages while scrolling, to the end of the history", async () => {
    const { page, calls, check } = await open();
    assert.equal(await page.locator("li.change").count(), 50);
    const scroller = page.getByTestId("changes-scroller");
    const end = page.getByText("That is the whole history.");
    for (let i = 0; i < 30 && !(await end.isVisible()); i++) {
      await scroller.evaluate((el) => el.scrollTo({ top: el.scrollHeight }));
      await page.waitForTimeout(100);
    }
    await end.waitFor();
    assert.equal(await page.locator("li.change").count(), 140);
    const befores = (await calls("list_changes")).map((a) => a.query.before);
    assert.deepEqual(befores, [null, 91, 41]);
    assert.deepEqual(await page.locator(".day-title").allInnerTexts(), ["TODAY", "YESTERDAY", "SUNDAY, NOVEMBER 22", "SATURDAY, NOVEMBER 21"]);
    await check();
  });

  it("adds live changes without moving what the user is looking at", async () => {
    const { page, emit, check } = await open();
    const scroller = page.getByTestId("changes-scroller");
    await scroller.evaluate((el) => (el.scrollTop = 600));
    const row = page.locator('li.change[data-seq="120"]');
    const before = (await row.boundingBox()).y;
    await emit("changes-added", {
      target: "t-onedrive",
      changes: [change(141, { at: NOW.toISOString() }), change(142, { at: NOW.toISOString() }), change(143, { at: NOW.toISOString() })],
    });
    await page.getByRole("button", { name: "3 new — show" }).waitFor();
    const afterY = (await row.boundingBox()).y;
    assert.ok(Math.abs(afterY - before) <= 1, `row stayed in place (${before} → ${afterY})`);
    await page.getByRole("button", { name: "3 new — show" }).click();
    assert.equal(await page.locator("li.change").first().getAttribute("data-seq"), "143");

    // At the top, new changes simply appear first; ones the filter excludes do not appear.
    await page.getByRole("button", { name: "Created", exact: true }).click();
    await page.waitForFunction(() => [...document.querySelectorAll(".change-kind")].every((e) => e.classList.contains("kind-created")));
    await emit("changes-added", {
      target: "t-onedrive",
      changes: [change(145, { kind: "created", name: "fresh.txt" }), change(146, { kind: "deleted", name: "gone.txt" })],
    });
    await page.getByText("fresh.txt").waitFor();
    assert.equal(await page.getByText("gone.txt").count(), 0);
    await check();
  });

  it("scrolls to and highlights a change asked for by a notification", async () => {
    const { page, emit, check } = await open();
    // A filter that hides the change: showing it clears the filter, field included.
    await page.getByRole("searchbox", { name: "Search" }).fill("Roadmap");
    await page.waitForFunction(() => window.__dw.calls.some((c) => c.cmd === "list_changes" && c.args.query.text === "Roadmap"));
    await page.getByRole("button", { name: "Settings" }).click();
    await emit("focus-change", { seq: 12 });
    const row = page.locator('li.change[data-seq="12"]');
    await row.waitFor();
    await page.waitForFunction(() => document.querySelector('li.change[data-seq="12"]')?.classList.contains("highlighted"));
    assert.equal(await row.getAttribute("aria-current"), "true");
    assert.equal(await row.evaluate((el) => el.contains(document.activeElement)), true, "focus is on the change");
    const box = await row.boundingBox();
    assert.ok(box.y > 0 && box.y < 720, "the change is on screen");
    assert.equal(await page.locator("main").evaluate((m) => m.scrollTop), 0, "only the list scrolled");
    assert.equal(await page.getByRole("searchbox", { name: "Search" }).isVisible(), true);
    assert.equal(await page.getByRole("searchbox", { name: "Search" }).inputValue(), "");
    await check();
  });

  it("says when history cannot be loaded, and retries", async () => {
    const { page, check } = await open({ failures: { list_changes: [{ kind: "internal", message: "database is locked" }] } });
    await page.getByRole("alert").filter({ hasText: "Could not load changes: database is locked" }).waitFor();
    await page.getByRole("button", { name: "Try again" }).click();
    await page.locator("li.change").first().waitFor();
    await check();
  });

  it("shows hostile names and paths as text and runs nothing", async () => {
    const evil = "<img src=x onerror=alert(1)>.txt";
    const hostile = change(150, {
      name: evil,
      path: `/<script>window.__pwned=1</script>/${evil}`,
      by: '<b onmouseover="alert(2)">Mallory</b>',
      kind: "renamed",
      oldPath: "/<svg onload=alert(3)>/old.txt",
    });
    const snap = snapshot();
    snap.targets = [{ ...snap.targets[0], label: "<iframe src=javascript:alert(4)>" }, ...snap.targets.slice(1)];
    const { page, emit, check, dialogs } = await open({ snapshot: snap, history: [hostile, ...history()] });
    await emit("changes-added", { target: "t-onedrive", changes: [change(151, { name: "<img src=y onerror=alert(5)>" })] });
    await page.getByText(evil, { exact: true }).waitFor();
    const row = page.locator('li.change[data-seq="150"]');
    assert.equal(await row.locator(".change-name").innerText(), evil);
    assert.match(await row.innerText(), /by <b onmouseover="alert\(2\)">Mallory<\/b>/);
    assert.match(await row.innerText(), /from \/<svg onload=alert\(3\)>\/old\.txt/);
    assert.equal(await page.locator("main img, main script, main iframe, main b, main svg[onload]").count(), 0);
    await page.getByRole("button", { name: "Status" }).click();
    await page.getByText("<iframe src=javascript:alert(4)>").waitFor();
    await page.getByRole("button", { name: "Recent changes" }).click();
    await page.waitForTimeout(200);
    assert.equal(await page.evaluate(() => window.__pwned), undefined);
    assert.deepEqual(dialogs, []);
    await check();
  });
});

describe("status", () => {
  it("shows every target's state in plain words, with progress while catching up", async () => {
    const { page, emit, check } = await open();
    await page.getByRole("button", { name: "Status" }).click();
    const card = (id) => page.locator(`li.target[data-target="${id}"]`);
    await card("t-onedrive").waitFor();
    assert.match(await card("t-onedrive").innerText(), /Live[\s\S]*Changes arrive the moment they happen/);
    assert.match(await card("t-marketing").innerText(), /Checking regularly[\s\S]*does not allow WebSocket/);
    assert.match(await card("t-finance").innerText(), /Reconnecting[\s\S]*connection to Microsoft was lost/);
    assert.match(await card("t-sales").innerText(), /Slowed down[\s\S]*checks again at 02:34 PM \(in 4 minutes\)/);
    assert.match(await card("t-photos").innerText(), /Catching up[\s\S]*2,731 items in 14 pages/);
    assert.equal(await card("t-photos").getByRole("progressbar", { name: "Catch-up progress" }).count(), 1);
    assert.match(await card("t-archive").innerText(), /Sign-in needed[\s\S]*expired or was revoked/);
    assert.match(await card("t-legal").innerText(), /Stopped by an error[\s\S]*library was deleted/);
    assert.match(await card("t-photos").innerText(), /Account: Алексей Петров/);

    await emit("target-status-changed", { ...(await page.evaluate(() => window.__dw.state.targets[1])), status: { state: "live" } });
    await page.waitForFunction(() => document.querySelector('li.target[data-target="t-marketing"]')?.dataset.state === "live");

    await card("t-archive").getByRole("button", { name: "Sign in again" }).click();
    await page.getByRole("heading", { name: "Sign in to Microsoft" }).waitFor();
    await check();
  });

  it("shows and lifts a pause from the banner", async () => {
    const { page, calls, check } = await open({ snapshot: snapshot({ pausedUntil: new Date(NOW.getTime() + 3_600_000).toISOString() }) });
    await page.getByText("Notifications paused until 03:30 PM").first().waitFor();
    await page.locator(".banner").getByRole("button", { name: "Resume" }).click();
    await page.locator(".banner").waitFor({ state: "detached" });
    assert.deepEqual(await calls("set_pause"), [{ pause: "resume" }]);
    await check();
  });
});

describe("settings", () => {
  it("lists accounts, adds one and signs one out", async () => {
    const snap = snapshot();
    snap.accounts = [snap.accounts[0], { ...snap.accounts[1], state: "needsSignIn" }];
    const { page, calls, emit, check } = await open({ snapshot: snap });
    await page.getByRole("button", { name: "Settings" }).click();
    const accounts = page.locator("section[aria-labelledby=accounts-title]");
    assert.match(await accounts.innerText(), /Alice Example[\s\S]*alice@contoso.com · Work or school/);
    assert.match(await page.locator('li[data-account="acc-alexey"]').innerText(), /alexey@outlook.com · Personal · needs sign-in/);
    assert.equal(await page.locator('li[data-account="acc-alice"]').getByRole("button", { name: "Sign in again" }).count(), 0);
    await page.locator('li[data-account="acc-alexey"]').getByRole("button", { name: "Sign in again" }).click();
    await page.getByRole("heading", { name: "Sign in to Microsoft" }).waitFor();
    await page.getByRole("button", { name: "Back" }).click();
    await page.getByRole("button", { name: "Sign out of Алексей Петров" }).click();
    await page.getByRole("button", { name: "Sign out of Алексей Петров" }).waitFor({ state: "detached" });
    assert.deepEqual(await calls("sign_out"), [{ account: "acc-alexey" }]);
    assert.equal(await page.locator('li[data-target="t-photos"]').count(), 0, "its libraries go too");
    await page.getByRole("button", { name: "Add an account" }).click();
    await page.getByRole("heading", { name: "Sign in to Microsoft" }).waitFor();
    await page.getByRole("button", { name: "Back" }).click();
    await page.getByRole("heading", { name: "Settings" }).waitFor();
    // Signed out elsewhere (the tray): with no account left the window offers the sign-in.
    await emit("snapshot-changed", snapshot({ accounts: [], targets: [] }));
    await page.getByRole("heading", { name: "Sign in to Microsoft" }).waitFor();
    assert.equal(await page.getByRole("navigation", { name: "Main" }).count(), 0);
    await check();
  });

  it("adds a library by pasted URL with clear errors, and removes one", async () => {
    const { page, calls, check } = await open();
    await page.getByRole("button", { name: "Settings" }).click();
    const url = page.getByLabel("OneDrive or SharePoint address");
    const add = page.getByRole("button", { name: "Add", exact: true });
    const error = page.locator("#target-url-error");

    await add.click();
    assert.equal(await error.innerText(), "Paste an address first.");
    await url.fill("marketing docs");
    await add.click();
    assert.match(await error.innerText(), /This is not a web address/);
    await url.fill("https://example.com/sites/x");
    await add.click();
    assert.match(await error.innerText(), /not a OneDrive or SharePoint address/);
    assert.equal(await url.getAttribute("aria-invalid"), "true");
    assert.equal((await calls("add_target")).length, 0, "nothing obviously wrong is sent");

    await url.fill("https://contoso.sharepoint.com/sites/missing/Shared%20Documents");
    await add.click();
    await page.getByText("No SharePoint site was found at this address.").waitFor();

    await page.getByLabel("With account").selectOption("acc-alexey");
    await url.fill("https://contoso.sharepoint.com/sites/Research/Shared%20Documents");
    await add.click();
    await page.getByRole("status").filter({ hasText: "Now watching Research › Documents." }).waitFor();
    assert.equal(await url.inputValue(), "");
    assert.equal(await error.count(), 0);
    assert.deepEqual((await calls("add_target")).at(-1), { account: "acc-alexey", url: "https://contoso.sharepoint.com/sites/Research/Shared%20Documents" });
    await page.locator("li[data-target]").filter({ hasText: "Research › Documents" }).waitFor();

    await page.getByRole("button", { name: "Stop watching Finance › Reports" }).click();
    await page.getByRole("button", { name: "Stop watching Finance › Reports" }).waitFor({ state: "detached" });
    assert.deepEqual(await calls("remove_target"), [{ target: "t-finance" }]);
    await check();
  });

  it("saves notification choices, pause, start at login and language", async () => {
    const { page, calls, check } = await open();
    await page.getByRole("button", { name: "Settings" }).click();
    const saved = async () => (await calls("save_preferences")).at(-1).preferences;

    await page.getByLabel("Also notify me about changes I make myself").check();
    await page.waitForFunction(() => window.__dw.calls.filter((c) => c.cmd === "save_preferences").length === 1);
    assert.equal((await saved()).notifyOwnChanges, true);

    await page.getByLabel("Quiet hours (no notifications)").check();
    await page.getByLabel("From", { exact: true }).waitFor();
    assert.deepEqual((await saved()).quietHours, { start: "22:00", end: "07:00" });
    await page.getByLabel("To", { exact: true }).fill("06:30");
    await page.waitForFunction(() => window.__dw.calls.filter((c) => c.cmd === "save_preferences").at(-1).args.preferences.quietHours?.end === "06:30");

    await page.getByLabel("Folder or pattern").fill("/Photos");
    await page.getByRole("button", { name: "Mute", exact: true }).click();
    await page.getByRole("button", { name: "Unmute /Photos" }).waitFor();
    assert.deepEqual((await saved()).mutedPatterns, ["*.tmp", "/Photos"]);
    await page.getByRole("button", { name: "Unmute *.tmp" }).click();
    await page.getByRole("button", { name: "Unmute *.tmp" }).waitFor({ state: "detached" });
    assert.deepEqual((await saved()).mutedPatterns, ["/Photos"]);

    await page.getByRole("button", { name: "Pause for one hour" }).click();
    await page.getByTestId("pause-state").filter({ hasText: "paused until 03:30 PM" }).waitFor();
    await page.getByRole("button", { name: "Pause until tomorrow" }).click();
    await page.locator(".settings").getByRole("button", { name: "Resume" }).click();
    await page.getByTestId("pause-state").filter({ hasText: "Notifications are on." }).waitFor();
    assert.deepEqual((await calls("set_pause")).map((a) => a.pause), ["oneHour", "untilTomorrow", "resume"]);

    await page.getByLabel("Start DriveWatch when I sign in to this computer").check();
    await page.waitForFunction(() => window.__dw.calls.filter((c) => c.cmd === "save_preferences").at(-1).args.preferences.startAtLogin === true);

    await page.getByLabel("Language").selectOption("ru");
    await page.getByRole("heading", { name: "Настройки" }).waitFor();
    assert.equal(await page.evaluate(() => document.documentElement.lang), "ru");
    assert.equal((await saved()).language, "ru");
    await check();
  });

  it("shows a failed save", async () => {
    const { page, check } = await open({ failures: { save_preferences: [{ kind: "internal", message: "disk full" }] } });
    await page.getByRole("button", { name: "Settings" }).click();
    await page.getByLabel("Start DriveWatch when I sign in to this computer").check();
    await page.getByRole("alert").filter({ hasText: "Could not save: disk full" }).waitFor();
    await check();
  });
});

/** The fixtures' history under a burst of 40 photos (group 141) and 12 saves of one file (group 181). */
function attentionHistory() {
  const base = { own: false, caughtUp: false, oldPath: null, target: "t-onedrive", account: "acc-alice" };
  const photos = Array.from({ length: 40 }, (_, i) =>
    change(141 + i, {
      ...base,
      kind: "created",
      name: `IMG_${1000 + i}.jpg`,
      path: `/Photos/Offsite/IMG_${1000 + i}.jpg`,
      itemId: `photo-${i}`,
      by: "Adele Vance",
      group: 141,
      at: new Date(NOW.getTime() - 40 * 60_000 + i * 1000).toISOString(),
    }),
  );
  const saves = Array.from({ length: 12 }, (_, i) =>
    change(181 + i, {
      ...base,
      kind: "modified",
      name: "Budget.xlsx",
      path: "/Finance/Budget.xlsx",
      itemId: "budget",
      by: "Alice Example",
      group: 181,
      at: new Date(Date.UTC(2026, 10, 24, 14, 2 + i)).toISOString(),
    }),
  );
  return [...saves.reverse(), ...photos.reverse(), ...history()];
}

describe("attention", () => {
  it("shows a burst and an editing session as one row each, expandable with mouse and keyboard, searchable inside", async () => {
    const { page, check } = await open({ history: attentionHistory() });
    // The burst spans the first two pages; its row counts all 40 once both are loaded.
    await page.waitForFunction(() => document.querySelector('li.group-row[data-group="141"]')?.dataset.count === "40");
    const burst = page.locator('li.group-row[data-group="141"]');
    const toggle = burst.locator(".group-toggle");
    assert.equal(await toggle.innerText(), "Adele Vance added 40 files to /Photos/Offsite");
    assert.equal(await toggle.getAttribute("aria-expanded"), "false");
    assert.equal(await burst.locator("li.change").count(), 0);
    assert.equal(await page.locator("li.group-row").count(), 2);

    const session = page.locator('li.group-row[data-group="181"]');
    assert.equal(await session.locator(".group-title").innerText(), "Alice Example edited Budget.xlsx");
    assert.equal(await session.locator(".group-detail").innerText(), "12 saves, 02:02 PM–02:13 PM");
    await shot(page, "changes-grouped-en-light");

    await toggle.click();
    assert.equal(await toggle.getAttribute("aria-expanded"), "true");
    assert.equal(await burst.locator(".group-members li.change").count(), 40);
    assert.equal(await toggle.getAttribute("aria-controls"), await burst.locator(".group-members").getAttribute("id"));
    assert.equal(await burst.locator(".group-members li.change .change-name").first().innerText(), "IMG_1039.jpg");
    await shot(page, "changes-group-expanded-en-light");
    await toggle.focus();
    await page.keyboard.press("Enter");
    assert.equal(await toggle.getAttribute("aria-expanded"), "false");
    await burst.locator(".group-members").waitFor({ state: "detached" });
    await page.keyboard.press("Space");
    assert.equal(await toggle.getAttribute("aria-expanded"), "true");

    // The engine filters; the row is formed from what matches, and stays expanded.
    await page.getByRole("searchbox", { name: "Search" }).fill("IMG_101");
    await page.waitForFunction(() => document.querySelector('li.group-row[data-group="141"]')?.dataset.count === "10");
    assert.equal(await toggle.innerText(), "Adele Vance added 10 files to /Photos/Offsite");
    assert.equal(await burst.locator(".group-members li.change").count(), 10);
    assert.equal(await page.locator('li.group-row[data-group="181"]').count(), 0);
    await check();
  });

  it("mutes a row's folder from its menu with the mouse or the keys, and lists and ends mutes in Settings", async () => {
    const { page, calls, check } = await open({ history: attentionHistory() });
    const session = page.locator('li.group-row[data-group="181"]');
    const more = session.getByRole("button", { name: "More for Alice Example edited Budget.xlsx" });
    await more.click();
    assert.equal(await more.getAttribute("aria-expanded"), "true");
    await page.getByRole("menuitem", { name: "Mute /Finance for 1 hour" }).click();
    await page.getByRole("status").filter({ hasText: "Notifications from /Finance are muted." }).waitFor();
    assert.deepEqual(await calls("mute_folder"), [{ target: "t-onedrive", folder: "/Finance", duration: "oneHour" }]);
    assert.equal(await page.getByRole("menu").count(), 0);

    const button = page.locator('li.change[data-seq="140"] .row-menu-btn');
    await button.focus();
    await page.keyboard.press("Enter");
    const focused = () => page.evaluate(() => document.activeElement?.getAttribute("data-mute"));
    assert.equal(await focused(), "oneHour");
    await page.keyboard.press("ArrowDown");
    assert.equal(await focused(), "untilTomorrow");
    await page.keyboard.press("Escape");
    assert.equal(await page.getByRole("menu").count(), 0);
    assert.equal(await page.evaluate(() => document.activeElement?.classList.contains("row-menu-btn")), true);
    await page.keyboard.press("Enter");
    await page.keyboard.press("ArrowUp");
    assert.equal(await focused(), "always");
    await page.keyboard.press("Enter");
    await page.waitForFunction(() => window.__dw.calls.filter((c) => c.cmd === "mute_folder").length === 2);
    assert.deepEqual((await calls("mute_folder"))[1], { target: "t-photos", folder: "/Finance", duration: "always" });

    await page.getByRole("button", { name: "Settings" }).click();
    const mutes = page.getByTestId("mutes").locator("li");
    assert.equal(await mutes.count(), 2);
    assert.match(await mutes.nth(0).innerText(), /\/Finance in OneDrive\s+until 03:30 PM/);
    assert.match(await mutes.nth(1).innerText(), /\/Finance in Фотографии\s+for good/);
    await mutes.nth(1).getByRole("button", { name: "Stop muting /Finance" }).click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="mutes"] li').length === 1);
    assert.deepEqual(await calls("unmute"), [{ mute: { folder: "/Finance", target: "t-photos", until: null } }]);
    await check();
  });

  it("edits notification rules, the digest time and the session length, keeping every other preference", async () => {
    const preferences = {
      ...snapshot().preferences,
      mutes: [{ folder: "/Photos", target: null, until: null }],
      rules: [{ target: "t-finance", folder: "/Budgets", mode: "digest", kinds: [] }],
      digestAt: "08:00",
      sessionMinutes: 10,
      aFutureSetting: { keep: true },
    };
    const { page, calls, check } = await open({ snapshot: snapshot({ preferences }) });
    await page.getByRole("button", { name: "Settings" }).click();
    const saves = () => page.evaluate(() => window.__dw.calls.filter((c) => c.cmd === "save_preferences").length);
    const saved = async () => (await calls("save_preferences")).at(-1).preferences;
    const after = async (n) => {
      await page.waitForFunction((k) => window.__dw.calls.filter((c) => c.cmd === "save_preferences").length === k, n);
      return saved();
    };
    const first = page.locator('li[data-rule="0"]');
    assert.equal(await first.getByLabel("Folder", { exact: true }).inputValue(), "/Budgets");
    await first.getByLabel("Notify", { exact: true }).selectOption("off");
    let p = await after(1);
    assert.deepEqual(p.rules, [{ target: "t-finance", folder: "/Budgets", mode: "off", kinds: [] }]);
    assert.deepEqual(p.aFutureSetting, { keep: true });
    assert.deepEqual(p.mutes, preferences.mutes);
    assert.equal(await first.getByRole("checkbox").count(), 0, "no kinds for a rule that is off");

    await page.getByRole("button", { name: "Add a rule" }).click();
    p = await after(2);
    assert.deepEqual(p.rules[1], { target: "t-onedrive", folder: null, mode: "digest", kinds: [] });
    const second = page.locator('li[data-rule="1"]');
    await second.getByLabel("Folder", { exact: true }).fill("Photos/");
    await second.getByLabel("Folder", { exact: true }).press("Tab");
    p = await after(3);
    assert.equal(p.rules[1].folder, "/Photos");
    await second.getByLabel("Library", { exact: true }).selectOption("t-marketing");
    await second.getByRole("checkbox", { name: "Deleted" }).check();
    p = await after(5);
    assert.deepEqual(p.rules[1], { target: "t-marketing", folder: "/Photos", mode: "digest", kinds: ["deleted"] });
    await page.locator("#rules-title").scrollIntoViewIfNeeded();
    await shot(page, "settings-rules-en-light");

    await page.getByLabel("Daily digest at").fill("07:45");
    p = await after(6);
    assert.equal(p.digestAt, "07:45");
    const minutes = page.getByLabel(/editing session/);
    assert.equal(await minutes.inputValue(), "10");
    await minutes.fill("15");
    await minutes.press("Tab");
    p = await after(7);
    assert.equal(p.sessionMinutes, 15);
    await minutes.fill("0");
    await minutes.press("Tab");

    await page.getByRole("button", { name: "Remove the rule for Finance › Reports /Budgets" }).click();
    p = await after(8);
    assert.deepEqual(p.rules, [{ target: "t-marketing", folder: "/Photos", mode: "digest", kinds: ["deleted"] }]);
    assert.equal(await saves(), 8, "an impossible session length is not sent");
    for (const call of await calls("save_preferences")) {
      assert.deepEqual(call.preferences.aFutureSetting, { keep: true }, "an unknown field survives every save");
      assert.deepEqual(call.preferences.mutedPatterns, ["*.tmp"]);
    }
    await check();
  });

  it("shows a digest's changes with a banner on focus-digest, and goes back to all", async () => {
    const { page, calls, emit, check } = await open();
    const scope = { target: "t-onedrive", folder: null, since: "2026-11-23T09:00:00.000Z", until: "2026-11-24T09:00:00.000Z" };
    const expected = history()
      .filter((c) => c.target === scope.target && c.at >= scope.since && c.at < scope.until)
      .map((c) => String(c.seq));
    assert.ok(expected.length > 5);
    await page.getByRole("button", { name: "Status" }).click();
    await emit("focus-digest", scope);
    const banner = page.getByTestId("digest-banner");
    await banner.waitFor();
    await page.waitForFunction(
      (n) => document.querySelector('[data-testid="digest-banner"]')?.textContent?.includes(`· ${n} changes`),
      expected.length,
    );
    assert.equal(await banner.locator("span").innerText(), `Digest: OneDrive, yesterday 09:00 AM–today 09:00 AM · ${expected.length} changes`);
    assert.equal(await page.locator(".tab[aria-current=page]").innerText(), "Recent changes");
    const seqs = await page.locator("li.change").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-seq")));
    assert.deepEqual(seqs, expected);
    assert.equal(await page.getByRole("combobox", { name: "Account or library" }).count(), 0);
    const last = (await calls("list_changes")).at(-1).query;
    assert.deepEqual([last.target, last.folder, last.since, last.until], [scope.target, null, scope.since, scope.until]);

    await banner.getByRole("button", { name: "Back to all changes" }).click();
    await banner.waitFor({ state: "detached" });
    await page.waitForFunction(() => document.querySelectorAll("li.change").length === 50);
    const back = (await calls("list_changes")).at(-1).query;
    assert.equal(back.since ?? null, null);
    assert.equal(back.target, null);
    await check();
  });

  it("tells the shell when the list is seen: on opening, on coming back to it, on new changes shown", async () => {
    const { page, calls, emit, check } = await open({ snapshot: snapshot({ unread: 7 }) });
    await page.waitForFunction(() => window.__dw.calls.some((c) => c.cmd === "mark_seen"));
    assert.equal((await calls("mark_seen")).length, 1);
    await page.getByRole("button", { name: "Settings" }).click();
    await emit("changes-added", { target: "t-onedrive", changes: [change(141, { kind: "created" })] });
    await page.waitForTimeout(1500);
    assert.equal((await calls("mark_seen")).length, 1, "not while another screen is shown");
    await page.getByRole("button", { name: "Recent changes" }).click();
    await page.waitForFunction(() => window.__dw.calls.filter((c) => c.cmd === "mark_seen").length === 2);
    await emit("changes-added", { target: "t-onedrive", changes: [change(142, { kind: "created" })] });
    await emit("changes-added", { target: "t-onedrive", changes: [change(143, { kind: "created" })] });
    await page.waitForFunction(() => window.__dw.calls.filter((c) => c.cmd === "mark_seen").length === 3);
    await page.waitForTimeout(1500);
    assert.equal((await calls("mark_seen")).length, 3, "debounced: one call for a burst of events");
    await check();
  });
});

describe("language, keyboard and look", () => {
  it("follows a Russian system language", async () => {
    const { page, check } = await open({}, { locale: "ru-RU" });
    assert.equal(await page.locator(".tab[aria-current=page]").innerText(), "Последние изменения");
    assert.equal(await page.locator(".day-title").first().innerText(), "СЕГОДНЯ");
    assert.equal(await page.locator("li.change time").first().innerText(), "2 минуты назад");
    assert.equal(await page.evaluate(() => document.documentElement.lang), "ru");
    await check();
  });

  it("reaches every screen with the keyboard, with a visible focus ring", async () => {
    const { page, check } = await open();
    await page.keyboard.press("Tab");
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), "Skip to content");
    await page.keyboard.press("Tab");
    await page.keyboard.press("Tab");
    assert.match(await page.evaluate(() => document.activeElement?.textContent?.trim()), /^Status\s+\(needs attention\)$/);
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
    assert.equal(outline, "solid", "focus is visible");
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { name: "Status" }).waitFor();
    // Choosing a screen moves focus to it; one step back is the navigation again.
    await page.keyboard.press("Shift+Tab");
    assert.equal(await page.evaluate(() => document.activeElement?.textContent?.trim()), "Settings");
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { name: "Settings", level: 1 }).waitFor();
    // Into the settings: the first control after the navigation is the first account's sign-out.
    await page.keyboard.press("Tab");
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute("aria-label")), "Sign out of Alice Example");
    await check();
  });

  it("saves a screenshot of each screen in light and dark, English and Russian", async () => {
    const screens = [
      { name: "changes", scenario: {}, go: async () => {} },
      { name: "status", scenario: {}, go: async (page) => page.locator(".tab").nth(1).click() },
      { name: "settings", scenario: {}, go: async (page) => page.locator(".tab").nth(2).click() },
      {
        name: "signin-code",
        scenario: { snapshot: snapshot({ accounts: [], targets: [] }) },
        go: async (page) => {
          await page.locator("form button[type=submit]").click();
          await page.locator("output.user-code").waitFor();
        },
      },
      { name: "signin-no-client-id", scenario: { snapshot: snapshot({ accounts: [], targets: [], clientIdConfigured: false }) }, go: async () => {} },
    ];
    // The sign-in outcomes, shown once in each language (light English, dark Russian).
    const account = { id: "acc-new", displayName: "Dana Scully", username: "dana@contoso.com", kind: "work", state: "signedIn" };
    const outcomes = [
      ["declined", { kind: "declined" }],
      ["expired", { kind: "expired" }],
      ["offline", { kind: "offline" }],
      ["failed", { kind: "failed", message: "AADSTS50076: multi-factor authentication is required" }],
      ["signed-in", { kind: "signedIn", account }],
    ];
    for (const [name, event] of outcomes) {
      screens.push({
        name: `signin-${name}`,
        only: [["en-US", "light"], ["ru-RU", "dark"]],
        scenario: { snapshot: snapshot({ accounts: [], targets: [] }) },
        go: async (page) => {
          await page.locator("form button[type=submit]").click();
          await page.locator("output.user-code").waitFor();
          await page.evaluate((e) => window.__dw.emit("sign-in-progress", e), event);
          await page.locator(name === "offline" ? ".callout" : "h1").filter({ hasNotText: /^$/ }).first().waitFor();
        },
      });
    }
    for (const locale of ["en-US", "ru-RU"]) {
      for (const colorScheme of ["light", "dark"]) {
        for (const s of screens) {
          if (s.only && !s.only.some(([l, c]) => l === locale && c === colorScheme)) continue;
          const { page, check } = await open(s.scenario, { locale, colorScheme });
          await s.go(page);
          await page.waitForTimeout(50);
          await shot(page, `${s.name}-${locale.slice(0, 2)}-${colorScheme}`);
          const low = await page.evaluate(lowContrastText);
          assert.deepEqual(low, [], `readable contrast on ${s.name} (${locale}, ${colorScheme})`);
          if (colorScheme === "dark") {
            const bg = await page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
            assert.equal(bg, "rgb(20, 23, 27)", "dark theme follows the OS");
          }
          await check();
        }
      }
    }
  });
});
