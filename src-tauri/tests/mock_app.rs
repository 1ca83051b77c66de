//! Starts the whole desktop app on Tauri's mock runtime over a scripted engine, and drives it
//! through the same IPC the window uses: snapshot, pause, input validation, engine events.
//!
//! The scripted engine is a test double of the engine trait, not of the shell: everything
//! between the IPC boundary and the engine is the real code.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use drivewatch_core::model::{
    Account, AccountKind, AccountState, Change, ChangeBatch, ChangeKind, EngineEvent, HistoryPage,
    HistoryQuery, Preferences, TargetInfo, TargetSpec, TargetStatus,
};
use drivewatch_desktop::engine::{EngineError, EngineFuture, EngineLink, SignInStarted};
use drivewatch_desktop::shell::Shell;
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
}

impl ScriptedEngine {
    fn new() -> Self {
        Self {
            events: broadcast::channel(64).0,
            preferences: Mutex::new(Preferences::default()),
            client_id: Mutex::new(None),
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
