//! The main window: shown on demand, hidden (not closed) when the user closes it.
//!
//! DriveWatch lives in the tray; the window is a view that comes and goes. This module must
//! never quit the app: only the tray's Quit does.

use tauri::{Manager, Runtime, Window, WindowEvent};

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
