//! Starts the whole desktop app on Tauri's mock runtime over a scripted engine, and drives it
//! through the same IPC the window uses: snapshot, pause, input validation, engine events,
//! muting and marking the list seen; the tray's and toasts' actions through the shell, watched
//! at its surface (the unread count, mutes from a toast, a digest's gathering); and start at
//! login against a scratch home.
//!
//! The scripted engine is a test double of the engine trait, not of the shell: everything
//! between the IPC boundary and the engine is the real code.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use drivewatch_core::model::{
    Account, AccountKind, AccountState, Change, ChangeBatch, ChangeKind, EngineEvent, HistoryPage,
    HistoryQuery, Preferences, SignInEvent, TargetInfo, TargetSpec, TargetStatus,
};
use drivewatch_core::model::{NotifyMode, NotifyRule};
use drivewatch_core::toast_policy::{DigestScope, ToastKind};
use drivewatch_desktop::engine::{EngineError, EngineFuture, EngineLink, SignInStarted};
use drivewatch_desktop::error::ShellError;
use drivewatch_desktop::ipc::{AppSnapshot, FocusDigest, MuteFor, PauseFor};
use drivewatch_desktop::shell::{Shell, Surface};
use drivewatch_desktop::{Wiring, commands, wire};
use serde_json::{Value, json};
use tauri::Manager;
use tauri::test::{MockRuntime, mock_builder, mock_context, noop_assets};
use tokio::sync::broadcast;

struct ScriptedEngine {
    events: broadcast::Sender<EngineEvent>,
    preferences: Mutex<Preferences>,
    client_id: Mutex<Option<String>>,
    shut_down: AtomicBool,
    /// Every history query, in order.
    queries: Mutex<Vec<HistoryQuery>>,
}

impl ScriptedEngine {
    fn new() -> Self {
        Self {
            events: broadcast::channel(64).0,
            preferences: Mutex::new(Preferences::default()),
            client_id: Mutex::new(None),
            shut_down: AtomicBool::new(false),
            queries: Mutex::new(Vec::new()),
        }
    }
}

fn account() -> Account {
    Account {
        id: "acct-1".to_owned(),
        display_name: "Megan Bowen".to_owned(),
        username: "megan@contoso.example".to_owned(),
        kind: AccountKind::Work,
        state: AccountState::SignedIn,
    }
}

impl EngineLink for ScriptedEngine {
    fn subscribe(&self) -> broadcast::Receiver<EngineEvent> {
        self.events.subscribe()
    }
    fn accounts(&self) -> Vec<Account> {
        vec![account()]
    }
    fn targets(&self) -> Vec<TargetInfo> {
        vec![TargetInfo {
            id: "acct-1/me".to_owned(),
            account: "acct-1".to_owned(),
            label: "OneDrive".to_owned(),
            spec: TargetSpec::MyDrive,
            status: TargetStatus::Live,
        }]
    }
    fn preferences(&self) -> Preferences {
        self.preferences.lock().expect("lock").clone()
    }
    fn client_id_configured(&self) -> bool {
        self.client_id.lock().expect("lock").is_some()
    }
    fn set_client_id(&self, client_id: &str) -> EngineFuture<'_, Result<(), EngineError>> {
        *self.client_id.lock().expect("lock") = Some(client_id.to_owned());
        Box::pin(async { Ok(()) })
    }
    fn save_preferences(
        &self,
        preferences: &Preferences,
    ) -> EngineFuture<'_, Result<(), EngineError>> {
        *self.preferences.lock().expect("lock") = preferences.clone();
        Box::pin(async { Ok(()) })
    }
    fn start_sign_in(
        &self,
        _kind: AccountKind,
    ) -> EngineFuture<'_, Result<SignInStarted, EngineError>> {
        Box::pin(async { Err(EngineError::NoClientId) })
    }
    fn cancel_sign_in(&self) {}
    fn sign_out(&self, _account: &str) -> EngineFuture<'_, Result<(), EngineError>> {
        Box::pin(async { Ok(()) })
    }
    fn history(&self, query: HistoryQuery) -> EngineFuture<'_, Result<HistoryPage, EngineError>> {
        // A span (a digest's) comes in two pages of others' changes in it, so that paging is
        // exercised.
        let page = match (query.since, query.before) {
            (Some(since), None) => HistoryPage {
                changes: vec![Change {
                    at: since + chrono::Duration::hours(1),
                    ..theirs(11)
                }],
                next_before: Some(11),
            },
            (Some(since), Some(_)) => HistoryPage {
                changes: vec![Change {
                    at: since + chrono::Duration::hours(2),
                    by: Some("Adele Vance".to_owned()),
                    ..theirs(10)
                }],
                next_before: None,
            },
            (None, _) => HistoryPage {
                changes: vec![change(1)],
                next_before: None,
            },
        };
        self.queries.lock().expect("lock").push(query);
        Box::pin(async move { Ok(page) })
    }
    fn web_url(&self, _seq: i64, _folder: bool) -> EngineFuture<'_, Result<String, EngineError>> {
        Box::pin(async { Err(EngineError::NotFound { what: "change" }) })
    }
    fn add_target(
        &self,
        _account: &str,
        _url: &str,
    ) -> EngineFuture<'_, Result<TargetInfo, EngineError>> {
        Box::pin(async { Err(EngineError::InvalidInput("not a drive link".to_owned())) })
    }
    fn remove_target(&self, _target: &str) -> EngineFuture<'_, Result<(), EngineError>> {
        Box::pin(async { Ok(()) })
    }
    fn shutdown(&self) -> EngineFuture<'_, ()> {
        self.shut_down.store(true, Ordering::SeqCst);
        Box::pin(async {})
    }
}

fn change(seq: i64) -> Change {
    Change {
        seq,
        kind: ChangeKind::Modified,
        name: "Budget.xlsx".to_owned(),
        path: "/Finance/Budget.xlsx".to_owned(),
        old_path: None,
        is_folder: false,
        item_id: format!("item-{seq}"),
        drive_id: "drive-1".to_owned(),
        by: Some("Megan Bowen".to_owned()),
        // The user's own change: listed, never toasted (no desktop is needed for this test).
        own: true,
        at: Utc::now(),
        web_url: None,
        account: "acct-1".to_owned(),
        target: "acct-1/me".to_owned(),
        caught_up: false,
        group: 0,
    }
}

/// A call of the window's page, as its process forwards it to the app: the command's name and
/// JSON arguments, run by the app's dispatcher; the answer is what the page would receive.
fn invoke(
    webview: &tauri::WebviewWindow<MockRuntime>,
    cmd: &str,
    args: Value,
) -> Result<Value, Value> {
    let app = webview.app_handle().clone();
    tauri::async_runtime::block_on(commands::dispatch(app, cmd.to_owned(), args))
}

#[test]
fn the_app_starts_and_serves_the_window() {
    let engine = Arc::new(ScriptedEngine::new());
    let shell = Shell::new(engine.clone(), false);
    let app = wire(
        mock_builder(),
        shell,
        Wiring {
            tray: false,
            window: None,
        },
    )
    .build(mock_context(noop_assets()))
    .expect("the app builds on the mock runtime");
    let mut app = app;
    // The set-up hook (events, relay, surface) runs with the first turn of the event loop.
    #[allow(deprecated)]
    app.run_iteration(|_, _| {});
    let webview = tauri::WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .expect("the main window");

    let snapshot = invoke(&webview, "get_snapshot", json!({})).expect("a snapshot");
    assert_eq!(snapshot["accounts"][0]["username"], "megan@contoso.example");
    assert_eq!(snapshot["targets"][0]["status"], json!({ "state": "live" }));
    assert_eq!(snapshot["pausedUntil"], Value::Null);
    assert_eq!(snapshot["clientIdConfigured"], false);
    assert_eq!(snapshot["demo"], false);

    let paused = invoke(&webview, "set_pause", json!({ "pause": "oneHour" })).expect("paused");
    let until = paused["pausedUntil"].as_str().expect("a pause deadline");
    let until = chrono::DateTime::parse_from_rfc3339(until).expect("RFC 3339");
    let minutes = (until.with_timezone(&Utc) - Utc::now()).num_minutes();
    assert!((58..=60).contains(&minutes), "{minutes} minutes");
    let resumed = invoke(&webview, "set_pause", json!({ "pause": "resume" })).expect("resumed");
    assert_eq!(resumed["pausedUntil"], Value::Null);

    let refused = invoke(
        &webview,
        "set_client_id",
        json!({ "clientId": "not-a-guid" }),
    )
    .expect_err("a bad id is refused");
    assert_eq!(refused["kind"], "invalidInput");
    assert!(
        !engine.client_id_configured(),
        "a refused id changes nothing"
    );
    let accepted = invoke(
        &webview,
        "set_client_id",
        json!({ "clientId": "14d82eec-204b-4c2f-b7e8-296a70dab67e" }),
    )
    .expect("a GUID is accepted");
    assert_eq!(accepted["clientIdConfigured"], true);

    let bad_target = invoke(
        &webview,
        "add_target",
        json!({ "account": "acct-1", "url": "x" }),
    )
    .expect_err("the engine's refusal reaches the window");
    assert_eq!(bad_target["kind"], "invalidInput");
    let missing = invoke(
        &webview,
        "open_change",
        json!({ "seq": 99, "folder": false }),
    )
    .expect_err("no such change");
    assert_eq!(missing["kind"], "notFound");
    // Arguments that do not fit and commands that do not exist are refused with a message, as
    // Tauri's own handler refuses them, and reach no engine.
    let bad_args = invoke(&webview, "open_change", json!({ "seq": "x" })).expect_err("refused");
    assert!(
        bad_args
            .as_str()
            .is_some_and(|m| m.starts_with("invalid args `seq` for command `open_change`")),
        "{bad_args}"
    );
    let unknown = invoke(&webview, "drop_database", json!({})).expect_err("refused");
    assert_eq!(unknown, json!("command drop_database not found"));
    let no_sign_in = invoke(&webview, "open_verification_page", json!({}))
        .expect_err("nothing to open without a sign-in");
    assert_eq!(no_sign_in["kind"], "notFound");

    let page = invoke(
        &webview,
        "list_changes",
        json!({ "query": { "limit": 50 } }),
    )
    .expect("a history page");
    assert_eq!(page["changes"][0]["name"], "Budget.xlsx");
    assert_eq!(page["nextBefore"], Value::Null);

    let saved = invoke(
        &webview,
        "save_preferences",
        json!({ "preferences": { "notifyOwnChanges": true, "quietHours": { "start": "22:00", "end": "07:00" } } }),
    )
    .expect("preferences saved");
    assert_eq!(saved["preferences"]["notifyOwnChanges"], true);
    let bad_quiet = invoke(
        &webview,
        "save_preferences",
        json!({ "preferences": { "quietHours": { "start": "late", "end": "07:00" } } }),
    )
    .expect_err("unreadable quiet hours are refused");
    assert_eq!(bad_quiet["kind"], "invalidInput");
    assert!(
        engine.preferences().notify_own_changes,
        "the refused save changed nothing"
    );
    // Back to no toasts for own changes, so the event below stays off the desktop.
    invoke(&webview, "save_preferences", json!({ "preferences": {} })).expect("saved");
    // Every command the window's capability allows is one the dispatcher runs.
    let capability: Value =
        serde_json::from_str(include_str!("../capabilities/main.json")).expect("JSON");
    let allowed: Vec<String> = capability["permissions"]
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|p| p.as_str()?.strip_prefix("allow-"))
        .map(|p| p.replace('-', "_"))
        .collect();
    assert_eq!(allowed.len(), 15, "{allowed:?}");
    for command in &allowed {
        if let Err(e) = invoke(&webview, command, json!({})) {
            assert_ne!(e, json!(format!("command {command} not found")));
        }
    }

    // An engine event reaches the tray's list of latest changes through the relay.
    engine
        .events
        .send(EngineEvent::Changes {
            batch: ChangeBatch {
                target: "acct-1/me".to_owned(),
                changes: vec![change(7)],
            },
        })
        .expect("the relay listens");
    let deadline = Instant::now() + Duration::from_secs(5);
    let shell = app.state::<Shell>();
    while shell.latest().is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(shell.latest().first().map(|c| c.seq), Some(7));
}

/// What the shell asks of the desktop, in order, as one line each.
struct RecordingSurface {
    seen: Arc<Mutex<Vec<String>>>,
    engine: Arc<ScriptedEngine>,
}

impl RecordingSurface {
    fn note(&self, line: String) {
        self.seen.lock().expect("lock").push(line);
    }
}

impl Surface for RecordingSurface {
    fn snapshot_changed(&self, snapshot: &AppSnapshot) {
        let paused = snapshot.paused_until.is_some();
        self.note(format!("snapshot paused={paused}"));
    }
    fn tray_changed(&self) {
        self.note("tray".to_owned());
    }
    fn sign_in_progress(&self, _event: &SignInEvent) {
        self.note("sign-in progress".to_owned());
    }
    fn set_autostart(&self, enabled: bool) -> Result<(), ShellError> {
        self.note(format!("autostart {enabled}"));
        Ok(())
    }
    fn show_window(&self) {
        self.note("window".to_owned());
    }
    fn show_change(&self, seq: i64) {
        self.note(format!("window at change {seq}"));
    }
    fn show_digest(&self, focus: &FocusDigest) {
        let folder = focus.folder.as_deref().unwrap_or("/");
        self.note(format!("window at digest {} {folder}", focus.target));
    }
    fn exit(&self, code: i32) {
        let stopped = self.engine.shut_down.load(Ordering::SeqCst);
        self.note(format!("exit {code} engine stopped={stopped}"));
    }
}

/// Waits (bounded) until the surface has seen `count` requests; returns them.
fn seen_after(seen: &Mutex<Vec<String>>, count: usize) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(5);
    while seen.lock().expect("lock").len() < count && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    seen.lock().expect("lock").clone()
}

/// The tray's entries and the toasts' buttons are the shell's actions: each reaches the desktop
/// through the shell's surface, and Quit stops the engine before it exits with code 0.
#[test]
fn tray_and_toast_actions_reach_the_desktop_through_the_shell() {
    let engine = Arc::new(ScriptedEngine::new());
    let shell = Shell::new(engine.clone(), false);
    let seen = Arc::new(Mutex::new(Vec::new()));
    shell.attach(Box::new(RecordingSurface {
        seen: seen.clone(),
        engine: engine.clone(),
    }));

    shell.show_window(); // the tray's Open, a click on its icon
    shell.show_change(7); // a toast's Show in DriveWatch
    let paused = shell.set_pause(PauseFor::OneHour); // the tray's Pause for 1 hour
    assert!(paused.paused_until.is_some());
    assert_eq!(
        seen_after(&seen, 3),
        ["window", "window at change 7", "snapshot paused=true"]
    );

    // The tray's Sign out runs as a task and announces the new snapshot when done.
    shell.spawn_sign_out("acct-1".to_owned());
    assert_eq!(seen_after(&seen, 4)[3], "snapshot paused=true");
    // An Open of a change the engine does not know is logged, and changes nothing on screen.
    shell.spawn_open_change(99, false);

    shell.quit();
    let seen = seen_after(&seen, 5);
    assert_eq!(seen.len(), 5, "{seen:?}");
    assert_eq!(seen[4], "exit 0 engine stopped=true");
    assert!(shell.cancel.is_cancelled(), "Quit cancels every task");
}

/// Start at login, end to end on Linux: turning it on writes the XDG autostart entry that starts
/// DriveWatch in the tray (`--hidden`), turning it off removes it. The entry goes to
/// `$HOME/.config/autostart`, so the check runs in a child process of this test binary with
/// `HOME` pointing at a scratch folder: the user's own autostart folder is never touched, and no
/// environment of this process is changed.
#[cfg(target_os = "linux")]
const AUTOSTART_CHILD: &str = "DRIVEWATCH_AUTOSTART_TEST_CHILD";

#[cfg(target_os = "linux")]
/// In the child: build the app on the mock runtime and turn start-at-login on, then off.
fn autostart_child() {
    let engine = Arc::new(ScriptedEngine::new());
    let app = wire(
        mock_builder(),
        Shell::new(engine, false),
        Wiring {
            tray: false,
            window: None,
        },
    )
    .build(mock_context(noop_assets()))
    .expect("the app builds on the mock runtime");
    let entry = std::path::Path::new(&std::env::var("HOME").expect("HOME"))
        .join(".config/autostart/DriveWatch.desktop");

    drivewatch_desktop::lifecycle::apply_autostart(app.handle(), true)
        .expect("start at login turns on");
    let text = std::fs::read_to_string(&entry).expect("an autostart entry");
    let exec = text
        .lines()
        .find_map(|l| l.strip_prefix("Exec="))
        .expect("an Exec line");
    assert!(
        exec.split_whitespace().any(|a| a == "--hidden"),
        "start at login opens no window: {exec:?}"
    );
    assert!(
        !exec.contains("--demo"),
        "start at login never starts the demo: {exec:?}"
    );

    drivewatch_desktop::lifecycle::apply_autostart(app.handle(), false)
        .expect("start at login turns off");
    assert!(!entry.exists(), "turning it off removes the entry");
}

#[cfg(target_os = "linux")]
#[test]
fn start_at_login_starts_in_the_tray_and_turns_off_cleanly() {
    if std::env::var_os(AUTOSTART_CHILD).is_some() {
        autostart_child();
        return;
    }
    let home = tempfile::tempdir().expect("a scratch home");
    let out = std::process::Command::new(std::env::current_exe().expect("this test binary"))
        .args([
            "start_at_login_starts_in_the_tray_and_turns_off_cleanly",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(AUTOSTART_CHILD, "1")
        .env("HOME", home.path())
        .output()
        .expect("the child test runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the child failed:\n{stdout}\n{stderr}"
    );
    assert!(
        stdout.contains("1 passed"),
        "the child ran the check:\n{stdout}"
    );
    // Nothing left behind in the scratch home either.
    assert!(
        !home
            .path()
            .join(".config/autostart/DriveWatch.desktop")
            .exists(),
        "no entry left after turning it off"
    );
}

/// A change by someone else: it deserves attention.
fn theirs(seq: i64) -> Change {
    Change {
        own: false,
        by: Some("Alex Wilber".to_owned()),
        ..change(seq)
    }
}

fn batch(changes: Vec<Change>) -> ChangeBatch {
    ChangeBatch {
        target: "acct-1/me".to_owned(),
        changes,
    }
}

/// A shell over a scripted engine, attached to a surface that records what it is asked.
fn recorded() -> (Arc<ScriptedEngine>, Shell, Arc<Mutex<Vec<String>>>) {
    let engine = Arc::new(ScriptedEngine::new());
    let shell = Shell::new(engine.clone(), false);
    let seen = Arc::new(Mutex::new(Vec::new()));
    shell.attach(Box::new(RecordingSurface {
        seen: seen.clone(),
        engine: engine.clone(),
    }));
    (engine, shell, seen)
}

/// Changes that deserve attention add up as unread (a pause holds their toasts, not the
/// count; the user's own changes never count), the snapshot carries the count, and marking the
/// list seen clears it, announcing once: a second mark while nothing is unread announces nothing.
#[test]
fn unread_changes_add_up_until_the_list_is_seen() {
    let (_engine, shell, seen) = recorded();
    shell.take_batch(&batch(vec![theirs(2), theirs(3), change(4)]));
    assert_eq!(shell.unread(), 2);
    assert_eq!(shell.snapshot().unread, 2);

    shell.set_pause(PauseFor::OneHour);
    let toasts = shell.take_batch(&batch(vec![theirs(5)]));
    assert!(toasts.is_empty(), "paused: no toast");
    assert_eq!(shell.unread(), 3, "paused: still counted");

    let announced = seen.lock().expect("lock").len();
    assert_eq!(shell.mark_seen().unread, 0);
    assert_eq!(shell.snapshot().unread, 0);
    assert_eq!(seen.lock().expect("lock").len(), announced + 1);
    assert_eq!(shell.mark_seen().unread, 0);
    assert_eq!(
        seen.lock().expect("lock").len(),
        announced + 1,
        "nothing new to announce"
    );

    // The tray's "N new changes" line: the window at the newest change, and the count seen.
    shell.take_batch(&batch(vec![theirs(9)]));
    let before = seen.lock().expect("lock").len();
    shell.show_unread();
    let after = seen_after(&seen, before + 2);
    assert_eq!(
        after[before..],
        ["window at change 9", "snapshot paused=true"]
    );
    assert_eq!(shell.unread(), 0);
}

/// Waits (bounded) until `done` holds.
fn eventually(mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !done() {
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    true
}

/// A toast's "Mute /Photos/Offsite for 3 hours" saves a mute of that folder of that target
/// ending in 3 hours, which the tray lists (and times) until its entry unmutes it; a mute
/// that has ended is not listed.
#[test]
fn a_mute_from_a_toast_lasts_three_hours_and_the_tray_undoes_it() {
    let (engine, shell, _seen) = recorded();
    assert_eq!(shell.next_mute_expiry(), None, "no mute, no timer");
    shell.spawn_mute_folder(
        Some("acct-1/me".to_owned()),
        "/Photos/Offsite".to_owned(),
        MuteFor::ThreeHours,
    );
    assert!(eventually(|| shell.active_mutes().len() == 1));
    let mute = shell.active_mutes().remove(0);
    assert_eq!(mute.folder, "/Photos/Offsite");
    assert_eq!(mute.target.as_deref(), Some("acct-1/me"));
    let until = mute.until.expect("a timed mute");
    let minutes = (until - Utc::now()).num_minutes();
    assert!((178..=180).contains(&minutes), "{minutes} minutes");
    assert_eq!(engine.preferences().mutes, vec![mute.clone()], "saved");
    assert_eq!(shell.next_mute_expiry(), Some(until));
    let in_photos = Change {
        path: "/Photos/Offsite/IMG_0001.txt".to_owned(),
        ..theirs(3)
    };
    assert!(shell.take_batch(&batch(vec![in_photos.clone()])).is_empty());
    assert_eq!(shell.unread(), 0, "a muted folder's changes are not news");
    assert!(!shell.take_batch(&batch(vec![theirs(4)])).is_empty());
    assert_eq!(shell.unread(), 1, "the rest still is");

    // Muting the same folder again replaces the mute rather than adding one.
    shell.spawn_mute_folder(
        Some("acct-1/me".to_owned()),
        "/Photos/Offsite".to_owned(),
        MuteFor::Always,
    );
    assert!(eventually(|| shell
        .active_mutes()
        .first()
        .is_some_and(|m| m.until.is_none())));
    assert_eq!(shell.active_mutes().len(), 1);
    assert_eq!(shell.next_mute_expiry(), None, "a mute for good ends never");

    shell.spawn_unmute(shell.active_mutes().remove(0));
    assert!(eventually(|| shell.active_mutes().is_empty()));
    assert!(engine.preferences().mutes.is_empty());

    let mut preferences = engine.preferences();
    preferences.mutes.push(drivewatch_core::model::Mute {
        folder: "/Old".to_owned(),
        target: None,
        until: Some(Utc::now() - chrono::Duration::minutes(1)),
    });
    tauri::async_runtime::block_on(engine.save_preferences(&preferences)).expect("saved");
    assert!(
        shell.active_mutes().is_empty(),
        "an ended mute is not listed"
    );
    assert_eq!(shell.next_mute_expiry(), None);
}

/// A digest reads the 24 hours before its time from the history, every page of it; without a
/// rule in digest mode there is no digest time, so the relay sets no timer. A digest toast's
/// Show opens the window on its changes.
#[test]
fn a_digest_reads_its_day_from_the_history_and_shows_its_changes() {
    let (engine, shell, seen) = recorded();
    assert_eq!(shell.next_digest_after(Utc::now()), None);
    let until = Utc::now();
    let toasts = tauri::async_runtime::block_on(shell.digest(until)).expect("a digest");
    assert!(toasts.is_empty(), "no rule in digest mode: {toasts:?}");
    let queries = engine.queries.lock().expect("lock").clone();
    assert_eq!(queries.len(), 2, "both pages: {queries:?}");
    for query in &queries {
        assert_eq!(query.since, Some(until - chrono::Duration::hours(24)));
        assert_eq!(query.until, Some(until));
    }
    assert_eq!(queries[0].before, None);
    assert_eq!(queries[1].before, Some(11));

    // With the target in digest mode, a digest time comes, and the day's changes (both pages)
    // make one digest toast that names the target.
    let mut preferences = engine.preferences();
    preferences.rules.push(NotifyRule {
        target: "acct-1/me".to_owned(),
        mode: NotifyMode::Digest,
        ..NotifyRule::default()
    });
    tauri::async_runtime::block_on(engine.save_preferences(&preferences)).expect("saved");
    let next = shell.next_digest_after(until).expect("a digest time");
    assert!(
        next > until && next <= until + chrono::Duration::hours(24),
        "{next}"
    );
    let toasts = tauri::async_runtime::block_on(shell.digest(until)).expect("a digest");
    assert_eq!(toasts.len(), 1, "{toasts:?}");
    assert_eq!(
        toasts[0].kind,
        ToastKind::Digest {
            count: 2,
            people: 2
        }
    );
    assert!(toasts[0].summary.contains("OneDrive"), "{:?}", toasts[0]);
    let scope = toasts[0].digest.clone().expect("a digest's scope");
    assert_eq!(scope.target, "acct-1/me");
    assert_eq!(scope.until, until);

    shell.show_digest(&DigestScope {
        folder: Some("/Finance".to_owned()),
        ..scope
    });
    assert_eq!(
        seen_after(&seen, 1),
        ["window at digest acct-1/me /Finance"]
    );
}

/// The window's calls for the attention features: mute a folder, unmute it, mark the list seen.
#[test]
fn the_window_mutes_unmutes_and_marks_the_list_seen() {
    let engine = Arc::new(ScriptedEngine::new());
    let shell = Shell::new(engine.clone(), false);
    let mut app = wire(
        mock_builder(),
        shell,
        Wiring {
            tray: false,
            window: None,
        },
    )
    .build(mock_context(noop_assets()))
    .expect("the app builds on the mock runtime");
    #[allow(deprecated)]
    app.run_iteration(|_, _| {});
    let webview = tauri::WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .expect("the main window");
    app.state::<Shell>()
        .take_batch(&batch(vec![theirs(2), theirs(3)]));
    assert_eq!(
        invoke(&webview, "get_snapshot", json!({})).expect("a snapshot")["unread"],
        2
    );
    let seen = invoke(&webview, "mark_seen", json!({})).expect("marked");
    assert_eq!(seen["unread"], 0);

    let muted = invoke(
        &webview,
        "mute_folder",
        json!({ "target": "acct-1/me", "folder": "/Photos", "duration": "oneHour" }),
    )
    .expect("muted");
    let mutes = &muted["preferences"]["mutes"];
    assert_eq!(mutes.as_array().map(Vec::len), Some(1), "{mutes}");
    assert_eq!(mutes[0]["folder"], "/Photos");
    let unmuted = invoke(&webview, "unmute", json!({ "mute": mutes[0] })).expect("unmuted");
    assert_eq!(unmuted["preferences"]["mutes"], json!([]));
    assert!(engine.preferences().mutes.is_empty());
}
