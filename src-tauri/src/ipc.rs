//! The IPC contract's data: the types that cross between the shell and the web UI, and the
//! events the shell sends, declared once, here.
//!
//! The crate root registers these events, with the calls the window may make, for the invoke
//! handler and for tauri-specta, which generates `ui/src/bindings.ts` from them (a test fails
//! when the committed file differs). This module holds data only: it depends on no other
//! module of the shell, so the shell, the tray and the IPC layer can all use it. Nothing here
//! may carry a token or a URL the UI chose.

use chrono::{DateTime, Utc};
use drivewatch_core::model::{
    Account, ChangeBatch, DeviceCodePrompt, Preferences, SignInEvent, TargetInfo,
};
use serde::{Deserialize, Serialize};
use tauri_specta::Event;

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
    /// Changes that deserved a toast (shown, or held by a pause, quiet hours or a digest) since
    /// the list was last seen; the tray shows it, `markSeen` clears it.
    pub unread: u32,
}

/// The pause choices the tray and the window offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub enum PauseFor {
    OneHour,
    UntilTomorrow,
    Resume,
}

/// How long a mute chosen from a toast, the list or Settings lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "camelCase")]
pub enum MuteFor {
    OneHour,
    ThreeHours,
    UntilTomorrow,
    Always,
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

/// A digest toast's "Show": show the changes it sums up (a filtered list).
#[derive(Debug, Clone, Serialize, Deserialize, specta::Type, Event)]
#[serde(rename_all = "camelCase")]
pub struct FocusDigest {
    pub target: String,
    pub folder: Option<String>,
    pub since: DateTime<Utc>,
    pub until: DateTime<Utc>,
}
