//! The main window: created on demand, destroyed when the user closes it.
//!
//! DriveWatch lives in the tray; the window is a view that comes and goes. The configuration
//! creates none: set-up opens it unless the app starts hidden. A closed window is
//! destroyed rather than hidden, because a hidden one keeps its WebKit web process (its page,
//! JavaScript heap and drawing buffers: about half the app's memory) for nothing; showing it
//! again builds it anew from the configuration, and the page reads the app's state on load
//! (`getSnapshot`). The engine, tray and toasts never need the window. This module must never
//! quit the app: only the tray's Quit does. Closing the window destroys it (Tauri's default), the app's
//! run loop refuses the exit request the last window's close makes (see `run`), and
//! [`on_event`] has `webkit_idle` give back what WebKit would keep after it (Linux).

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

/// Settings GTK and WebKit read from the environment, so they must be in place before either
/// starts: each is set only when the user's environment says nothing about it. Linux only, and
/// called first thing in `main`, before any thread exists (the environment is not safe to change
/// once other threads may read it).
///
/// - `GDK_GL=disable`: GTK 3 on X11 otherwise loads the OpenGL driver while it opens the
///   display, to pick visuals, whether or not a window ever opens: Mesa's driver and LLVM,
///   about 30 MiB of the tray's 105 MiB PSS. Without it WebKit draws the page without GPU
///   compositing (its web process renders in software), which a list of changes does not miss.
/// - `WEBKIT_DISABLE_MEMORY_PRESSURE_MONITOR=1`: once a window has been opened, WebKit keeps a
///   thread in the app's process that reads /proc/meminfo every 5 s for the app's life (12
///   wake-ups a minute in the tray) to tell its processes to drop caches when the system runs
///   low; the window's page is small and is destroyed on close.
pub fn prepare_process_environment() {
    #[cfg(all(unix, not(target_os = "macos")))]
    for (key, value) in [
        ("GDK_GL", "disable"),
        ("WEBKIT_DISABLE_MEMORY_PRESSURE_MONITOR", "1"),
    ] {
        if std::env::var_os(key).is_none() {
            // SAFETY: called at the top of `main`, before the runtime, the logger or GTK start
            // a thread, so nothing reads the environment concurrently.
            #[allow(unsafe_code)]
            unsafe {
                std::env::set_var(key, value);
            }
        }
    }
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
    let builder =
        tauri::WebviewWindowBuilder::from_config(app.app_handle(), &config)?.theme(desktop_theme());
    // Counted only from here on, so every count is matched by a destroyed window or the failed
    // build below (a `?` between the two had left the count up, and the network process alive).
    #[cfg(all(unix, not(target_os = "macos")))]
    crate::webkit_idle::window_opening();
    let built = builder.build();
    #[cfg(all(unix, not(target_os = "macos")))]
    if built.is_err() {
        crate::webkit_idle::window_closed();
    }
    built
}

/// The window's events: once it is destroyed, WebKit's leftovers are released (Linux).
pub fn on_event<R: Runtime>(window: &tauri::Window<R>, event: &tauri::WindowEvent) {
    if matches!(event, tauri::WindowEvent::Destroyed) && window.label() == MAIN {
        #[cfg(all(unix, not(target_os = "macos")))]
        crate::webkit_idle::window_closed();
    }
}

/// The desktop's light or dark preference, read once each time the window is built. Tao can
/// follow it live, but only by keeping a D-Bus connection polled every 5 s on a thread of its own
/// for the app's life (Tauri's `dbus` feature, left out), which would wake the app in the tray
/// for a window that is mostly closed. `None` lets GTK's own settings decide.
#[cfg(all(unix, not(target_os = "macos")))]
fn desktop_theme() -> Option<tauri::Theme> {
    // On a thread of its own: `show` runs on the main thread and in the single-instance
    // callback, a task of zbus's runtime, where a blocking zbus call cannot run.
    std::thread::spawn(|| read_color_scheme().and_then(theme_of_color_scheme))
        .join()
        .ok()
        .flatten()
}

#[cfg(not(all(unix, not(target_os = "macos"))))]
fn desktop_theme() -> Option<tauri::Theme> {
    None
}

/// The settings portal's `org.freedesktop.appearance` `color-scheme`, as tao read it; `None`
/// without a portal (it answers within a second or not at all).
#[cfg(all(unix, not(target_os = "macos")))]
fn read_color_scheme() -> Option<u32> {
    use zbus::zvariant::{OwnedValue, Value};
    let bus = zbus::blocking::connection::Builder::session()
        .ok()?
        .method_timeout(std::time::Duration::from_secs(1))
        .build()
        .ok()?;
    let reply = bus
        .call_method(
            Some("org.freedesktop.portal.Desktop"),
            "/org/freedesktop/portal/desktop",
            Some("org.freedesktop.portal.Settings"),
            "Read",
            &("org.freedesktop.appearance", "color-scheme"),
        )
        .ok()?;
    let value: OwnedValue = reply.body().deserialize().ok()?;
    // `Read` wraps the value in a variant, and some portals in a second one.
    let mut value: &Value<'_> = &value;
    while let Value::Value(inner) = value {
        value = inner;
    }
    u32::try_from(value).ok()
}

/// The portal's values: 1 prefers dark, 2 prefers light, 0 (or anything else) says nothing.
#[cfg_attr(not(all(unix, not(target_os = "macos"))), allow(dead_code))]
fn theme_of_color_scheme(scheme: u32) -> Option<tauri::Theme> {
    match scheme {
        1 => Some(tauri::Theme::Dark),
        2 => Some(tauri::Theme::Light),
        _ => None,
    }
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
    fn the_portal_colour_scheme_picks_the_theme_or_leaves_it_to_gtk() {
        assert_eq!(theme_of_color_scheme(1), Some(tauri::Theme::Dark));
        assert_eq!(theme_of_color_scheme(2), Some(tauri::Theme::Light));
        assert_eq!(theme_of_color_scheme(0), None);
        assert_eq!(theme_of_color_scheme(7), None);
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
