//! The IPC contract between the shell and the web UI, declared once, here.
//!
//! Commands (in [`crate::commands`]) and the events below are collected by
//! [`specta_builder`]; tauri-specta generates `ui/src/bindings.ts` from them, and a test fails
//! when the committed file differs. The UI calls only `commands.*` and listens only through
//! `events.*`. Nothing here may carry a token or open a URL the UI chose.

use chrono::{DateTime, Utc};
use drivewatch_core::model::{
    Account, ChangeBatch, DeviceCodePrompt, Preferences, SignInEvent, TargetInfo,
};
use serde::{Deserialize, Serialize};
use specta_typescript::Typescript;
use tauri::Runtime;
use tauri_specta::{Event, collect_commands, collect_events};

use crate::commands;

/// Everything the window needs to draw itself from scratch.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub struct AppSnapshot {
    pub accounts: Vec<Account>,
    pub targets: Vec<TargetInfo>,
    pub preferences: Preferences,
    /// Toasts are paused until then; `None` when not paused.
    pub paused_until: Option<DateTime<Utc>>,
    /// Running against the built-in emulator (`--demo`).
    pub demo: bool,
    pub client_id_configured: bool,
    /// A sign-in in progress.
    pub sign_in: Option<DeviceCodePrompt>,
}

/// The pause choices the tray and the window offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub enum PauseFor {
    OneHour,
    UntilTomorrow,
    Resume,
}

/// New changes for the list (all of them, toasted or not).
#[derive(Debug, Clone, Serialize, Deserialize, specta::Type, Event)]
pub struct ChangesAdded(pub ChangeBatch);

/// A watched target's status changed.
#[derive(Debug, Clone, Serialize, Deserialize, specta::Type, Event)]
pub struct TargetStatusChanged(pub TargetInfo);

/// Progress of the sign-in started by `startSignIn`.
#[derive(Debug, Clone, Serialize, Deserialize, specta::Type, Event)]
pub struct SignInProgress(pub SignInEvent);

/// Accounts, preferences or the pause changed: redraw from this.
#[derive(Debug, Clone, Serialize, Deserialize, specta::Type, Event)]
pub struct SnapshotChanged(pub AppSnapshot);

/// A toast's "Show in DriveWatch": scroll to and highlight this change.
#[derive(Debug, Clone, Serialize, Deserialize, specta::Type, Event)]
pub struct FocusChange {
    pub seq: i64,
}

/// The one list of commands and events, for the invoke handler and for the bindings.
pub fn specta_builder<R: Runtime>() -> tauri_specta::Builder<R> {
    tauri_specta::Builder::<R>::new()
        .commands(collect_commands![
            commands::get_snapshot,
            commands::start_sign_in,
            commands::cancel_sign_in,
            commands::sign_out,
            commands::list_changes,
            commands::add_target,
            commands::remove_target,
            commands::save_preferences,
            commands::set_pause,
            commands::open_change,
            commands::open_verification_page,
            commands::set_client_id,
        ])
        .events(collect_events![
            ChangesAdded,
            TargetStatusChanged,
            SignInProgress,
            SnapshotChanged,
            FocusChange
        ])
        .dangerously_cast_bigints_to_number()
        // One TypeScript type per Rust type, not separate input and output shapes.
        .disable_serde_phases()
}

/// Put above the generated code: where it comes from, and the `Result` type the UI names in
/// its own signatures (the generated commands return exactly this shape).
const HEADER: &str =
    "// Generated from src-tauri/src/ipc.rs by DriveWatch's bindings test. Do not edit.
export type Result<T, E> = { status: \"ok\"; data: T } | { status: \"error\"; error: E };
";

/// The TypeScript exporter settings `ui/src/bindings.ts` is written with.
pub fn typescript() -> Typescript {
    Typescript::default().header(HEADER)
}

/// Renders the bindings to a string, as they are committed.
pub fn render_bindings<R: Runtime>(builder: &tauri_specta::Builder<R>) -> Result<String, String> {
    let dir = std::env::temp_dir().join(format!("drivewatch-bindings-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let path = dir.join("bindings.ts");
    builder
        .export(typescript(), &path)
        .map_err(|e| e.to_string())?;
    let text = std::fs::read_to_string(&path).map_err(|e| e.to_string())?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(text)
}
