//! The shell's [`Surface`] over a Tauri app handle: events to the window, the tray redrawn,
//! the window shown, start at login set, the process ended.
//!
//! This is where the shell's requests meet the desktop modules (window, tray, lifecycle), so
//! that the shell itself depends on none of them. Nothing here decides anything; failures to
//! reach the window are logged, never raised, since the engine's work must go on whether or
//! not a window listens.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

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
    /// A tray redraw is queued on the main thread and has not started yet.
    pub redraw_queued: Arc<AtomicBool>,
}

impl<R: Runtime> Surface for AppSurface<R> {
    fn snapshot_changed(&self, snapshot: &AppSnapshot) {
        if let Err(e) = SnapshotChanged(snapshot.clone()).emit(&self.app) {
            tracing::warn!(error = %e, "could not send the snapshot to the window");
        }
        self.tray_changed();
    }

    /// Queues one redraw of the tray on the main thread and returns at once. Tauri's tray and
    /// menu calls made from another thread each wait for a round trip to the main thread, and a
    /// redraw makes dozens: made from the relay's Tokio worker they held it about 8 ms per
    /// change, and the toast spawned just before waited behind them (Tokio runs a task spawned
    /// from a worker next on that same worker). Redraws asked for while one is queued are that
    /// one: a burst of changes draws the tray once, with what is true when it draws.
    fn tray_changed(&self) {
        if !self.tray || self.redraw_queued.swap(true, Ordering::AcqRel) {
            return;
        }
        let app = self.app.clone();
        let queued = Arc::clone(&self.redraw_queued);
        let sent = self.app.run_on_main_thread(move || {
            queued.store(false, Ordering::Release);
            crate::tray::refresh(&app);
        });
        if let Err(e) = sent {
            self.redraw_queued.store(false, Ordering::Release);
            tracing::warn!(error = %e, "could not redraw the tray");
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
        crate::window_link::open(&self.app);
    }

    fn show_change(&self, seq: i64) {
        crate::window_link::open(&self.app);
        if let Err(e) = (FocusChange { seq }).emit(&self.app) {
            tracing::warn!(error = %e, "could not point the window at a change");
        }
    }

    fn show_digest(&self, focus: &FocusDigest) {
        crate::window_link::open(&self.app);
        if let Err(e) = focus.clone().emit(&self.app) {
            tracing::warn!(error = %e, "could not point the window at a digest");
        }
    }

    fn exit(&self, code: i32) {
        self.app.exit(code);
    }
}
