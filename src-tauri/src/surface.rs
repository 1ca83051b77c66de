//! The shell's [`Surface`] over a Tauri app handle: events to the window, the tray redrawn,
//! the window shown, start at login set, the process ended.
//!
//! This is where the shell's requests meet the desktop modules (window, tray, lifecycle), so
//! that the shell itself depends on none of them. Nothing here decides anything; failures to
//! reach the window are logged, never raised, since the engine's work must go on whether or
//! not a window listens.

use drivewatch_core::model::SignInEvent;
use tauri::{AppHandle, Runtime};
use tauri_specta::Event;

use crate::error::ShellError;
use crate::ipc::{AppSnapshot, FocusChange, FocusDigest, SignInProgress, SnapshotChanged};
use crate::shell::Surface;

/// The desktop surface of a running app.
pub struct AppSurface<R: Runtime> {
    pub app: AppHandle<R>,
    /// False where there is no tray (the mock-runtime test).
    pub tray: bool,
}

impl<R: Runtime> Surface for AppSurface<R> {
    fn snapshot_changed(&self, snapshot: &AppSnapshot) {
        if let Err(e) = SnapshotChanged(snapshot.clone()).emit(&self.app) {
            tracing::warn!(error = %e, "could not send the snapshot to the window");
        }
        self.tray_changed();
    }

    fn tray_changed(&self) {
        if self.tray {
            crate::tray::refresh(&self.app);
        }
    }

    fn sign_in_progress(&self, event: &SignInEvent) {
        if let Err(e) = SignInProgress(event.clone()).emit(&self.app) {
            tracing::warn!(error = %e, "could not send sign-in progress to the window");
        }
    }

    fn set_autostart(&self, enabled: bool) -> Result<(), ShellError> {
        crate::lifecycle::apply_autostart(&self.app, enabled)
    }

    fn show_window(&self) {
        crate::window::show(&self.app);
    }

    fn show_change(&self, seq: i64) {
        crate::window::show(&self.app);
        if let Err(e) = (FocusChange { seq }).emit(&self.app) {
            tracing::warn!(error = %e, "could not point the window at a change");
        }
    }

    fn show_digest(&self, focus: &FocusDigest) {
        crate::window::show(&self.app);
        if let Err(e) = focus.clone().emit(&self.app) {
            tracing::warn!(error = %e, "could not point the window at a digest");
        }
    }

    fn exit(&self, code: i32) {
        self.app.exit(code);
    }
}
