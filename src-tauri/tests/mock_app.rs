//! Starts the whole desktop app on Tauri's mock runtime over a scripted engine, and drives it
//! through the same IPC the window uses: snapshot, pause, input validation, engine events; the
//! tray's and toasts' actions through the shell, watched at its surface; and start at login
//! against a scratch home.
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
use drivewatch_desktop::engine::{EngineError, EngineFuture, EngineLink, SignInStarted};
use drivewatch_desktop::error::ShellError;
use drivewatch_desktop::ipc::{AppSnapshot, PauseFor};
use drivewatch_desktop::shell::{Shell, Surface};
use drivewatch_desktop::{Wiring, wire};
use serde_json::{Value, json};
use tauri::Manager;
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{INVOKE_KEY, MockRuntime, mock_builder, mock_context, noop_assets};
use tauri::webview::InvokeRequest;
use tokio::sync::broadcast;

struct ScriptedEngine {
    events: broadcast::Sender<EngineEvent>,
    preferences: Mutex<Preferences>,
    client_id: Mutex<Option<String>>,
    shut_down: AtomicBool,
}

impl ScriptedEngine {
    fn new() -> Self {
        Self {
            events: broadcast::channel(64).0,
            preferences: Mutex::new(Preferences::default()),
            client_id: Mutex::new(None),
            shut_down: AtomicBool::new(false),
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
    fn history(&self, _query: HistoryQuery) -> EngineFuture<'_, Result<HistoryPage, EngineError>> {
        Box::pin(async {
            Ok(HistoryPage {
                changes: vec![change(1)],
                next_before: None,
            })
        })
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

fn invoke(
    webview: &tauri::WebviewWindow<MockRuntime>,
    cmd: &str,
    args: Value,
) -> Result<Value, Value> {
    let request = InvokeRequest {
        cmd: cmd.into(),
        callback: CallbackFn(0),
        error: CallbackFn(1),
        url: "tauri://localhost".parse().expect("a URL"),
        body: InvokeBody::Json(args),
        headers: Default::default(),
        invoke_key: INVOKE_KEY.to_string(),
    };
    tauri::test::get_ipc_response(webview, request)
        .map(|body| body.deserialize::<Value>().expect("a JSON answer"))
}

#[test]
fn the_app_starts_and_serves_the_window() {
    let engine = Arc::new(ScriptedEngine::new());
    let shell = Shell::new(engine.clone(), false);
    let app = wire(mock_builder(), shell, Wiring { tray: false })
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
        Wiring { tray: false },
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
