//! The main window: created on demand, destroyed when the user closes it.
//!
//! DriveWatch lives in the tray; the window is a view that comes and goes. The configuration
//! creates none: set-up opens it unless the app starts hidden. A closed window is
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

/// Set by `--hidden`: the app starts with no window.
static START_HIDDEN: AtomicBool = AtomicBool::new(false);

/// Asks for the app to start in the tray with its window closed (`drivewatch --hidden`).
pub fn start_hidden() {
    START_HIDDEN.store(true, Ordering::Relaxed);
}

/// At set-up: opens the window unless `--hidden` asked for none. The configuration creates no
/// window by itself (`"create": false`), so a start in the tray (at log-in) builds no window and
/// starts no WebKit process until the user opens it.
pub fn apply_start<R: Runtime, M: Manager<R>>(app: &M) {
    open_at_start(app, START_HIDDEN.load(Ordering::Relaxed));
}

fn open_at_start<R: Runtime, M: Manager<R>>(app: &M, hidden: bool) {
    if !hidden {
        show(app);
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
    /// An app configured like DriveWatch's (the window not created by the configuration), after
    /// its first turn of the run loop.
    fn app_without_a_window() -> tauri::App<tauri::test::MockRuntime> {
        let mut context = mock_context(noop_assets());
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
        app
    }

    #[test]
    fn the_shipped_configuration_creates_no_window_by_itself() {
        let conf: serde_json::Value =
            serde_json::from_str(include_str!("../tauri.conf.json")).unwrap();
        let main = &conf["app"]["windows"][0];
        assert_eq!(main["label"], MAIN);
        assert_eq!(main["create"], false);
    }

    #[test]
    fn a_hidden_start_builds_no_window_and_a_normal_one_opens_it() {
        let hidden = app_without_a_window();
        open_at_start(&hidden, true);
        assert!(hidden.get_webview_window(MAIN).is_none());

        let normal = app_without_a_window();
        open_at_start(&normal, false);
        assert!(normal.get_webview_window(MAIN).is_some());
    }

    #[test]
    fn showing_a_closed_window_builds_it_again() {
        // As after a close: configured, but no window exists.
        let app = app_without_a_window();
        assert!(app.get_webview_window(MAIN).is_none());

        show(&app);
        assert!(app.get_webview_window(MAIN).is_some(), "built when shown");
        // Showing an open window does not make a second one.
        show(&app);
        assert_eq!(app.webview_windows().len(), 1);
    }
}
