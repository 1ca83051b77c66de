//! The main window, built in the window process (`window_process`) and shown from there.
//!
//! The configuration creates no window (`"create": false`): the window process builds it from
//! its configuration when it starts, and ends when the user closes it, which is how the app
//! gets back everything WebKit loaded for it (see `window_link`). The page reads the app's
//! state on load (`getSnapshot`). This module also prepares the environment GTK and WebKit
//! read, for both processes.

use tauri::{Manager, Runtime, WebviewWindow};

/// The label of the one window, as in `tauri.conf.json` and `capabilities/main.json`.
pub const MAIN: &str = "main";

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

/// Builds the main window from its configuration (once: an open window is returned as is).
pub fn build<R: Runtime, M: Manager<R>>(app: &M) -> tauri::Result<WebviewWindow<R>> {
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
    tauri::WebviewWindowBuilder::from_config(app.app_handle(), &config)?
        .theme(desktop_theme())
        .build()
}

/// The desktop's light or dark preference, read once each time the window is built. Tao can
/// follow it live, but only by keeping a D-Bus connection polled every 5 s on a thread of its own
/// for the app's life (Tauri's `dbus` feature, left out), which would wake the app in the tray
/// for a window that is mostly closed. `None` lets GTK's own settings decide.
#[cfg(all(unix, not(target_os = "macos")))]
fn desktop_theme() -> Option<tauri::Theme> {
    // On a thread of its own: a blocking zbus call cannot run on a task of zbus's runtime, and
    // the caller's thread is not known here.
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

/// Shows, restores and focuses the main window when the app asks (tray click, "Open", a
/// toast, a second launch).
pub fn show<R: Runtime, M: Manager<R>>(app: &M) {
    let window = match build(app) {
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
    fn the_window_is_built_from_its_configuration_once() {
        // As the window process starts: configured, but no window exists.
        let app = app_without_a_window();
        assert!(app.get_webview_window(MAIN).is_none());

        build(&app).expect("built from the configuration");
        assert!(app.get_webview_window(MAIN).is_some(), "built");
        // Showing an open window does not make a second one.
        show(&app);
        assert_eq!(app.webview_windows().len(), 1);
    }
}
