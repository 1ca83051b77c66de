/**
 * The window's state and its one connection to the desktop shell.
 *
 * Why: every screen reads the same snapshot (accounts, targets, preferences) and the same loaded
 * history, kept current by the shell's events. This store is the only caller of the generated
 * bindings' `commands` and `events` (components call the store's methods, so what a call changes
 * in the window's state is decided once, here): never `invoke` with a command name, and never a
 * URL opened here (the shell opens items and the sign-in page itself).
 */

import { tick } from "svelte";
import { SvelteSet } from "svelte/reactivity";
import {
  commands,
  events,
  type Account,
  type AccountKind,
  type AppError,
  type AppSnapshot,
  type Change,
  type DeviceCodePrompt,
  type Mute,
  type MuteFor,
  type PauseFor,
  type Preferences,
  type SignInEvent,
  type TargetInfo,
} from "../bindings";
import {
  EMPTY_FILTER,
  matchesFilter,
  matchesScope,
  mergeChanges,
  toQuery,
  type ChangeFilter,
  type DigestScope,
} from "./changes";
import { groupOf } from "./groups";
import { resolveLocale, translate, type Locale, type MessageKey } from "./i18n";

export type View = "signIn" | "changes" | "status" | "settings";

export type SignInPhase =
  | { phase: "choose" }
  | { phase: "requesting" }
  | { phase: "prompt"; prompt: DeviceCodePrompt; offline: boolean }
  | { phase: "declined" }
  | { phase: "expired" }
  | { phase: "offline" }
  | { phase: "failed"; message: string }
  | { phase: "signedIn"; account: Account };

export interface Notice {
  text: string;
  tone: "info" | "error";
  id: number;
}

/** A way for the list to keep what the user looks at in place while rows are inserted above. */
export interface ScrollAnchor {
  capture(): { restore(): void; atTop: boolean };
}

const PAGE = 50;
/** A digest's list, or a group's changes, load whole, up to this many pages. */
const DIGEST_PAGES = 40;

class AppState {
  snapshot = $state<AppSnapshot | null>(null);
  view = $state<View>("changes");
  systemLanguages = $state<readonly string[]>(["en"]);
  locale: Locale = $derived(resolveLocale(this.snapshot?.preferences.language, this.systemLanguages));
  startError = $state<string | null>(null);
  notice = $state<Notice | null>(null);
  /** The clock relative times are drawn against; ticks every 30 s. */
  now = $state(new Date());

  signIn = $state<SignInPhase>({ phase: "choose" });
  signInKind = $state<AccountKind>("any");
  /** Set when the shell said no client id is configured, or when the snapshot says so. */
  needsClientId = $derived(this.snapshot !== null && !this.snapshot.clientIdConfigured);

  items = $state<Change[]>([]);
  nextBefore = $state<number | null>(null);
  exhausted = $state(false);
  loadingPage = $state(false);
  listError = $state<string | null>(null);
  filter = $state<ChangeFilter>({ ...EMPTY_FILTER });
  /** Live changes inserted above while the user was scrolled down. */
  unseen = $state(0);
  /** Bumped whenever live changes join the list (seen again if the list is on screen). */
  liveNonce = $state(0);
  highlighted = $state<number | null>(null);
  /** Bumped on every focus request so the list scrolls even to the same change twice. */
  focusNonce = $state(0);
  /** The digest whose changes the list shows (from a digest toast), or `null` for all. */
  digest = $state<DigestScope | null>(null);
  /** The groups whose rows are expanded to their changes. */
  expanded = new SvelteSet<number>();

  private anchor: ScrollAnchor | null = null;
  private generation = 0;
  private noticeSeq = 0;

  t = (key: MessageKey, params?: Record<string, string | number>): string =>
    translate(this.locale, key, params);

  async start(systemLanguages: readonly string[]): Promise<void> {
    this.systemLanguages = systemLanguages;
    setInterval(() => (this.now = new Date()), 30_000);
    try {
      await Promise.all([
        events.snapshotChanged.listen((e) => this.setSnapshot(e.payload)),
        events.targetStatusChanged.listen((e) => this.updateTarget(e.payload)),
        events.changesAdded.listen((e) => void this.addLive(e.payload.changes)),
        events.signInProgress.listen((e) => this.onSignIn(e.payload)),
        events.focusChange.listen((e) => void this.focus(e.payload.seq)),
        events.focusDigest.listen((e) => void this.showDigest(e.payload)),
      ]);
      const snapshot = await commands.getSnapshot();
      this.snapshot = snapshot;
      this.now = new Date();
      if (snapshot.signIn) {
        this.signIn = { phase: "prompt", prompt: snapshot.signIn, offline: false };
        this.view = "signIn";
      } else if (snapshot.accounts.length === 0) {
        this.view = "signIn";
      }
      await this.reload();
    } catch (e) {
      this.startError = e instanceof Error ? e.message : String(e);
    }
  }

  show(text: string, tone: Notice["tone"] = "info"): void {
    this.notice = { text, tone, id: ++this.noticeSeq };
  }

  showError(key: MessageKey, error: AppError): void {
    this.show(this.t(key, { message: error.message }), "error");
  }

  // ---- snapshot -------------------------------------------------------------------------

  /** A new snapshot from the shell; with no account left, only signing in makes sense. */
  setSnapshot(snapshot: AppSnapshot): void {
    this.snapshot = snapshot;
    if (snapshot.accounts.length === 0) this.beginAddAccount();
  }

  accountName(id: string): string {
    return this.snapshot?.accounts.find((a) => a.id === id)?.displayName ?? id;
  }

  targetLabel(id: string): string {
    return this.snapshot?.targets.find((t) => t.id === id)?.label ?? id;
  }

  private updateTarget(target: TargetInfo): void {
    if (!this.snapshot) return;
    const i = this.snapshot.targets.findIndex((t) => t.id === target.id);
    if (i >= 0) this.snapshot.targets[i] = target;
    else this.snapshot.targets.push(target);
  }

  // ---- history --------------------------------------------------------------------------

  setAnchor(anchor: ScrollAnchor | null): void {
    this.anchor = anchor;
  }

  /** Drops loaded pages and loads the newest page under the current filter. */
  async reload(): Promise<void> {
    this.generation++;
    this.items = [];
    this.nextBefore = null;
    this.exhausted = false;
    this.unseen = 0;
    this.loadingPage = false;
    await this.loadMore();
  }

  /**
   * Loads the next older page; a no-op while one is loading or at the end. Automatic loads
   * (scrolling) do not retry after an error: the user does, with the list's retry button.
   */
  async loadMore(auto = false): Promise<void> {
    if (this.loadingPage || this.exhausted || (auto && this.listError)) return;
    const generation = this.generation;
    this.loadingPage = true;
    this.listError = null;
    const res = await commands.listChanges(toQuery(this.filter, this.nextBefore, PAGE, this.digest));
    if (generation !== this.generation) return;
    this.loadingPage = false;
    if (res.status === "error") {
      this.listError = this.t("loadFailed", { message: res.error.message });
      return;
    }
    this.items = mergeChanges(this.items, res.data.changes);
    this.nextBefore = res.data.nextBefore;
    this.exhausted = res.data.nextBefore === null;
  }

  async setFilter(filter: ChangeFilter): Promise<void> {
    this.filter = filter;
    await this.reload();
    if (this.digest) await this.loadAll();
  }

  /** Loads the remaining pages (a digest's list, which its banner counts), up to a bound. */
  private async loadAll(): Promise<void> {
    for (let i = 0; i < DIGEST_PAGES && !this.exhausted && !this.listError && this.digest; i++) {
      await this.loadMore();
    }
  }

  /** New changes from the shell: shown at the top without moving what the user looks at. */
  async addLive(changes: Change[]): Promise<void> {
    const fresh = changes.filter(
      (c) =>
        matchesFilter(c, this.filter) &&
        matchesScope(c, this.digest) &&
        !this.items.some((x) => x.seq === c.seq),
    );
    if (fresh.length === 0) return;
    const captured = this.anchor?.capture();
    this.items = mergeChanges(this.items, fresh);
    this.liveNonce++;
    await tick();
    if (captured && !captured.atTop) {
      captured.restore();
      this.unseen += fresh.length;
    }
  }

  /** Scrolls to and highlights a change, loading older pages (unfiltered) until it is there. */
  async focus(seq: number): Promise<void> {
    if (this.view === "signIn" && (this.snapshot?.accounts.length ?? 0) > 0) this.view = "changes";
    else if (this.view !== "changes") this.view = "changes";
    if (!this.items.some((c) => c.seq === seq)) {
      if (this.digest || !(this.filter.text === "" && this.filter.kinds.length === 0 && this.filter.where === "")) {
        this.filter = { ...EMPTY_FILTER };
        this.digest = null;
        await this.reload();
      }
      for (let i = 0; i < 40 && !this.items.some((c) => c.seq === seq) && !this.exhausted; i++) {
        await this.loadMore();
        if (this.listError) break;
      }
    }
    // A change inside a group is shown by expanding its row.
    const found = this.items.find((c) => c.seq === seq);
    if (found) this.expanded.add(groupOf(found));
    this.highlighted = seq;
    this.focusNonce++;
  }

  /**
   * Shows a digest's changes (a digest toast's "Show"): the list narrowed to its target, folder
   * and span, loaded whole so its banner can count them. Other filters are cleared.
   */
  async showDigest(scope: DigestScope): Promise<void> {
    this.view = "changes";
    this.filter = { ...EMPTY_FILTER };
    this.digest = { ...scope };
    await this.reload();
    await this.loadAll();
  }

  /** Expands or collapses a group's row; expanding loads the rest of the group first. */
  async toggleGroup(group: number): Promise<void> {
    if (this.expanded.has(group)) {
      this.expanded.delete(group);
      return;
    }
    this.expanded.add(group);
    await this.loadGroup(group);
  }

  /**
   * Loads every change of a group that matches the filter, so its row counts and shows them
   * all even when part of it is on pages not loaded yet. A failure leaves the loaded part.
   */
  async loadGroup(group: number): Promise<void> {
    if (this.exhausted) return;
    const generation = this.generation;
    let before: number | null = null;
    for (let i = 0; i < DIGEST_PAGES; i++) {
      const res = await commands.listChanges({ ...toQuery(this.filter, before, PAGE, this.digest), group });
      if (generation !== this.generation || res.status === "error") return;
      this.items = mergeChanges(this.items, res.data.changes);
      before = res.data.nextBefore;
      if (before === null) return;
    }
  }

  /** Back from a digest to every change. */
  async leaveDigest(): Promise<void> {
    this.digest = null;
    await this.reload();
  }

  /**
   * The list was seen: the shell clears the unread count. Only the count is taken from its
   * answer: this call runs by itself, and a whole snapshot could be older than one a save or
   * an event brought meanwhile. Never an error for the user.
   */
  async markSeen(): Promise<void> {
    try {
      const answer = await commands.markSeen();
      if (this.snapshot) this.snapshot.unread = answer.unread;
    } catch {
      // An older shell or a closing window: the count stays, nothing else to do.
    }
  }

  /** Mutes the folder of a row (from its menu); the notice says so. */
  async muteFolder(target: string | null, folder: string, duration: MuteFor, shown: string): Promise<void> {
    const res = await commands.muteFolder(target, folder, duration);
    if (res.status === "error") {
      this.showError("muteFailed", res.error);
      return;
    }
    this.snapshot = res.data;
    this.show(this.t("mutedFolder", { folder: shown }));
  }

  /** Ends a timed or permanent mute (Settings); a failure is a notice. */
  async unmute(mute: Mute): Promise<void> {
    const res = await commands.unmute(mute);
    if (res.status === "ok") this.snapshot = res.data;
    else this.showError("saveFailed", res.error);
  }

  async open(seq: number, folder: boolean): Promise<void> {
    const res = await commands.openChange(seq, folder);
    if (res.status === "error") this.showError("openFailed", res.error);
  }

  // ---- settings -------------------------------------------------------------------------

  /** Saves the preferences; the snapshot the shell answers with holds them. */
  async savePreferences(preferences: Preferences): Promise<AppError | null> {
    const res = await commands.savePreferences(preferences);
    if (res.status === "error") return res.error;
    this.snapshot = res.data;
    return null;
  }

  /** Pauses toasts (or resumes them); a failure is a notice. */
  async setPause(pause: PauseFor): Promise<void> {
    const res = await commands.setPause(pause);
    if (res.status === "ok") this.snapshot = res.data;
    else this.showError("saveFailed", res.error);
  }

  /** Watches one more library, named by a pasted address; the error is for the address field. */
  async addTarget(account: string, url: string): Promise<AppError | null> {
    const res = await commands.addTarget(account, url.trim());
    if (res.status === "error") return res.error;
    const added = res.data;
    if (this.snapshot && !this.snapshot.targets.some((t) => t.id === added.id)) this.snapshot.targets.push(added);
    this.show(this.t("addedTarget", { name: added.label }));
    return null;
  }

  async removeTarget(id: string): Promise<void> {
    const res = await commands.removeTarget(id);
    if (res.status === "error") {
      this.showError("saveFailed", res.error);
      return;
    }
    if (this.snapshot) this.snapshot.targets = this.snapshot.targets.filter((t) => t.id !== id);
  }

  /** Signs an account out; with none left, only signing in makes sense. */
  async signOut(id: string): Promise<void> {
    const res = await commands.signOut(id);
    if (res.status === "error") {
      this.showError("saveFailed", res.error);
      return;
    }
    if (this.snapshot) {
      this.snapshot.accounts = this.snapshot.accounts.filter((a) => a.id !== id);
      this.snapshot.targets = this.snapshot.targets.filter((t) => t.account !== id);
      if (this.snapshot.accounts.length === 0) this.beginAddAccount();
    }
  }

  // ---- sign-in --------------------------------------------------------------------------

  async startSignIn(kind: AccountKind): Promise<void> {
    this.signInKind = kind;
    this.signIn = { phase: "requesting" };
    const res = await commands.startSignIn(kind);
    if (res.status === "ok") {
      // A prompt event may already have arrived with the same code.
      if (this.signIn.phase === "requesting") {
        this.signIn = { phase: "prompt", prompt: res.data, offline: false };
      }
      return;
    }
    this.signInError(res.error);
  }

  private signInError(error: AppError): void {
    switch (error.kind) {
      case "noClientId":
        if (this.snapshot) this.snapshot.clientIdConfigured = false;
        this.signIn = { phase: "choose" };
        break;
      case "network":
        this.signIn = { phase: "offline" };
        break;
      case "cancelled":
        this.signIn = { phase: "choose" };
        break;
      default:
        this.signIn = { phase: "failed", message: error.message };
    }
  }

  async cancelSignIn(): Promise<void> {
    await commands.cancelSignIn();
    this.signIn = { phase: "choose" };
  }

  /** The shell opens the sign-in page of the sign-in in progress; a failure is a notice. */
  async openVerificationPage(): Promise<void> {
    const res = await commands.openVerificationPage();
    if (res.status === "error") this.showError("openFailed", res.error);
  }

  /** The code ran out on our clock; the shell reports the same with an `expired` event. */
  codeRanOut(): void {
    if (this.signIn.phase === "prompt") this.signIn = { phase: "expired" };
  }

  private onSignIn(e: SignInEvent): void {
    // With no sign-in under way here (e.g. just cancelled), a late outcome of the old one
    // must not replace the choice screen; a new prompt or a finished sign-in still shows.
    const idle = this.signIn.phase === "choose";
    if (idle && e.kind !== "prompt" && e.kind !== "signedIn") return;
    switch (e.kind) {
      case "prompt":
        this.signIn = { phase: "prompt", prompt: e.prompt, offline: false };
        break;
      case "signedIn":
        this.signIn = { phase: "signedIn", account: e.account };
        break;
      case "declined":
        this.signIn = { phase: "declined" };
        break;
      case "expired":
        this.signIn = { phase: "expired" };
        break;
      case "offline":
        if (this.signIn.phase === "prompt") this.signIn = { ...this.signIn, offline: true };
        else this.signIn = { phase: "offline" };
        break;
      case "failed":
        this.signIn = { phase: "failed", message: e.message };
        break;
    }
  }

  async setClientId(id: string): Promise<AppError | null> {
    const res = await commands.setClientId(id.trim());
    if (res.status === "error") return res.error;
    this.snapshot = res.data;
    return null;
  }

  /** Opens the sign-in screen to add (or re-add) an account. */
  beginAddAccount(): void {
    if (this.signIn.phase !== "prompt" && this.signIn.phase !== "requesting") {
      this.signIn = { phase: "choose" };
    }
    this.view = "signIn";
  }

  finishSignIn(): void {
    this.signIn = { phase: "choose" };
    this.view = "changes";
    void this.reload();
  }
}

export const app = new AppState();
