//! The main window: shown on demand, hidden (not closed) when the user closes it.
//!
//! DriveWatch lives in the tray; the window is a view that comes and goes. This module must
//! never quit the app: only the tray's Quit does.

use std::sync::atomic::{AtomicBool, Ordering};

use tauri::{Manager, Runtime, Window, WindowEvent};

/// Set by `--hidden`: the window is closed right after it is created.
static START_HIDDEN: AtomicBool = AtomicBool::new(false);

/// Asks for the app to start in the tray with its window closed (`drivewatch --hidden`).
pub fn start_hidden() {
    START_HIDDEN.store(true, Ordering::Relaxed);
}

/// At set-up: closes the window the configuration just created when `--hidden` asked for it,
/// leaving the app in the state a user's close gives (the window hidden, the app in the tray).
pub fn apply_start<R: Runtime, M: Manager<R>>(app: &M) {
    if !START_HIDDEN.load(Ordering::Relaxed) {
        return;
    }
    if let Some(window) = app.get_webview_window(MAIN) {
        if let Err(e) = window.hide() {
            tracing::warn!(error = %e, "could not start with the main window closed");
        }
    }
}

/// The label of the one window, as in `tauri.conf.json` and `capabilities/main.json`.
pub const MAIN: &str = "main";

/// Shows, restores and focuses the main window (tray click, "Open", a second launch).
pub fn show<R: Runtime, M: Manager<R>>(app: &M) {
    let Some(window) = app.get_webview_window(MAIN) else {
        tracing::warn!("the main window is missing");
        return;
    };
    let shown = window
        .show()
        .and_then(|()| window.unminimize())
        .and_then(|()| window.set_focus());
    if let Err(e) = shown {
        tracing::warn!(error = %e, "could not show the main window");
    }
}

/// Closing the window hides it; DriveWatch keeps running in the tray.
pub fn on_window_event<R: Runtime>(window: &Window<R>, event: &WindowEvent) {
    if let WindowEvent::CloseRequested { api, .. } = event {
        if window.label() == MAIN {
            api.prevent_close();
            if let Err(e) = window.hide() {
                tracing::warn!(error = %e, "could not hide the main window");
            }
        }
    }
}
