//! Start at login, end to end on Linux: turning it on writes the XDG autostart entry that starts
//! DriveWatch in the tray (`--hidden`), turning it off removes it.
//!
//! The entry goes to `$HOME/.config/autostart`, so the check runs in a child process of this
//! test binary with `HOME` pointing at a scratch folder: the user's own autostart folder is never
//! touched, and no environment of this process is changed.

#![cfg(target_os = "linux")]

use std::process::Command;
use std::sync::Arc;

use drivewatch_core::model::{EngineEvent, HistoryPage, HistoryQuery, Preferences, TargetInfo};
use drivewatch_desktop::engine::{EngineError, EngineFuture, EngineLink, SignInStarted};
use drivewatch_desktop::lifecycle::apply_autostart;
use drivewatch_desktop::shell::Shell;
use drivewatch_desktop::{Wiring, wire};
use tauri::test::{mock_builder, mock_context, noop_assets};
use tokio::sync::broadcast;

const CHILD: &str = "DRIVEWATCH_AUTOSTART_TEST_CHILD";

/// An engine with nothing to say: start-at-login never reaches it.
struct QuietEngine {
    events: broadcast::Sender<EngineEvent>,
}

impl EngineLink for QuietEngine {
    fn subscribe(&self) -> broadcast::Receiver<EngineEvent> {
        self.events.subscribe()
    }
    fn accounts(&self) -> Vec<drivewatch_core::model::Account> {
        Vec::new()
    }
    fn targets(&self) -> Vec<TargetInfo> {
        Vec::new()
    }
    fn preferences(&self) -> Preferences {
        Preferences::default()
    }
    fn client_id_configured(&self) -> bool {
        false
    }
    fn set_client_id(&self, _client_id: &str) -> EngineFuture<'_, Result<(), EngineError>> {
        Box::pin(async { Ok(()) })
    }
    fn save_preferences(
        &self,
        _preferences: &Preferences,
    ) -> EngineFuture<'_, Result<(), EngineError>> {
        Box::pin(async { Ok(()) })
    }
    fn start_sign_in(
        &self,
        _kind: drivewatch_core::model::AccountKind,
    ) -> EngineFuture<'_, Result<SignInStarted, EngineError>> {
        Box::pin(async { Err(EngineError::NoClientId) })
    }
    fn cancel_sign_in(&self) {}
    fn sign_out(&self, _account: &str) -> EngineFuture<'_, Result<(), EngineError>> {
        Box::pin(async { Ok(()) })
    }
    fn history(&self, _query: HistoryQuery) -> EngineFuture<'_, Result<HistoryPage, EngineError>> {
        Box::pin(async { Err(EngineError::NotFound { what: "history" }) })
    }
    fn web_url(&self, _seq: i64, _folder: bool) -> EngineFuture<'_, Result<String, EngineError>> {
        Box::pin(async { Err(EngineError::NotFound { what: "change" }) })
    }
    fn add_target(
        &self,
        _account: &str,
        _url: &str,
    ) -> EngineFuture<'_, Result<TargetInfo, EngineError>> {
        Box::pin(async { Err(EngineError::NotFound { what: "target" }) })
    }
    fn remove_target(&self, _target: &str) -> EngineFuture<'_, Result<(), EngineError>> {
        Box::pin(async { Ok(()) })
    }
    fn shutdown(&self) -> EngineFuture<'_, ()> {
        Box::pin(async {})
    }
}

/// In the child: build the app on the mock runtime and turn start-at-login on, then off.
fn child() {
    let engine = Arc::new(QuietEngine {
        events: broadcast::channel(4).0,
    });
    let app = wire(
        mock_builder(),
        Shell::new(engine, false),
        Wiring { tray: false },
    )
    .build(mock_context(noop_assets()))
    .expect("the app builds on the mock runtime");
    let entry = std::path::Path::new(&std::env::var("HOME").expect("HOME"))
        .join(".config/autostart/DriveWatch.desktop");

    apply_autostart(app.handle(), true).expect("start at login turns on");
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

    apply_autostart(app.handle(), false).expect("start at login turns off");
    assert!(!entry.exists(), "turning it off removes the entry");
}

#[test]
fn start_at_login_starts_in_the_tray_and_turns_off_cleanly() {
    if std::env::var_os(CHILD).is_some() {
        child();
        return;
    }
    let home = tempfile::tempdir().expect("a scratch home");
    let out = Command::new(std::env::current_exe().expect("this test binary"))
        .args([
            "start_at_login_starts_in_the_tray_and_turns_off_cleanly",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
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
