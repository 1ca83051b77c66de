//! The main window: created on demand, destroyed when the user closes it.
//!
//! DriveWatch lives in the tray; the window is a view that comes and goes. A closed window is
//! destroyed rather than hidden, because a hidden one keeps its WebKit web process (its page,
//! JavaScript heap and drawing buffers: about half the app's memory) for nothing; showing it
//! again builds it anew from the configuration, and the page reads the app's state on load
//! (`getSnapshot`). The engine, tray and toasts never need the window. This module must never
//! quit the app: only the tray's Quit does. Closing the window destroys it (Tauri's default, so no
//! window event handler is needed), and the app's run loop refuses the exit request the last
//! window's close makes (see `run`).

use std::sync::atomic::{AtomicBool, Ordering};

use tauri::{Manager, Runtime, WebviewWindow};

/// The label of the one window, as in `tauri.conf.json` and `capabilities/main.json`.
pub const MAIN: &str = "main";

/// Set by `--hidden`: the window is closed right after it is created.
static START_HIDDEN: AtomicBool = AtomicBool::new(false);

/// Asks for the app to start in the tray with its window closed (`drivewatch --hidden`).
pub fn start_hidden() {
    START_HIDDEN.store(true, Ordering::Relaxed);
}

/// At set-up: closes the window the configuration just created when `--hidden` asked for it,
/// leaving the app in the state a user's close gives (no window, the app in the tray).
pub fn apply_start<R: Runtime, M: Manager<R>>(app: &M) {
    if !START_HIDDEN.load(Ordering::Relaxed) {
        return;
    }
    if let Some(window) = app.get_webview_window(MAIN) {
        if let Err(e) = window.destroy() {
            tracing::warn!(error = %e, "could not start with the main window closed");
        }
    }
}

/// The main window, built from its configuration when it was closed (or never created).
fn main_window<R: Runtime, M: Manager<R>>(app: &M) -> tauri::Result<WebviewWindow<R>> {
    if let Some(window) = app.get_webview_window(MAIN) {
        return Ok(window);
    }
    let config = app
        .config()
        .app
        .windows
        .iter()
        .find(|w| w.label == MAIN)
        .cloned()
        .ok_or(tauri::Error::WindowNotFound)?;
    tauri::WebviewWindowBuilder::from_config(app.app_handle(), &config)?.build()
}

/// Shows, restores and focuses the main window (tray click, "Open", a toast, a second
/// launch), creating it again if it was closed.
pub fn show<R: Runtime, M: Manager<R>>(app: &M) {
    let window = match main_window(app) {
        Ok(window) => window,
        Err(e) => {
            tracing::warn!(error = %e, "could not open the main window");
            return;
        }
    };
    let shown = window
        .show()
        .and_then(|()| window.unminimize())
        .and_then(|()| window.set_focus());
    if let Err(e) = shown {
        tracing::warn!(error = %e, "could not show the main window");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tauri::test::{mock_builder, mock_context, noop_assets};

    /// A closed window is gone (destroyed, not hidden); "Open" builds it from its configuration.
    #[test]
    fn showing_a_closed_window_builds_it_again() {
        let mut context = mock_context(noop_assets());
        // As after a close: configured, but no window exists.
        context.config_mut().app.windows = vec![tauri::utils::config::WindowConfig {
            label: MAIN.into(),
            create: false,
            ..Default::default()
        }];
        let mut app = mock_builder()
            .build(context)
            .expect("the app builds on the mock runtime");
        #[allow(deprecated)]
        app.run_iteration(|_, _| {});
        assert!(app.get_webview_window(MAIN).is_none());

        show(&app);
        assert!(app.get_webview_window(MAIN).is_some(), "built when shown");
        // Showing an open window does not make a second one.
        show(&app);
        assert_eq!(app.webview_windows().len(), 1);
    }
}
