//! Delivers the toasts core's policy decided on, as native desktop notifications.
//!
//! On Linux and the BSDs they go over D-Bus (org.freedesktop.Notifications) with the actions
//! Open and Show in DriveWatch; on Windows and macOS notify-rust shows them without actions.
//! This module must never decide what to show (that is `drivewatch_core::toast_policy`) and
//! never block the caller: each toast is shown on a blocking worker, which on Linux also
//! waits (bounded by the toast's timeout) for the user's action.

use std::path::PathBuf;
use std::sync::OnceLock;

use drivewatch_core::toast_policy::Toast;
use tauri::{AppHandle, Manager, Runtime};

/// The app name notification servers show and group by.
pub const APP_NAME: &str = "DriveWatch";
/// How long a toast stays up; also bounds how long a worker waits for an action.
const SHOW_FOR_MS: u32 = 10_000;

static ICON_PATH: OnceLock<Option<PathBuf>> = OnceLock::new();

/// Writes the app icon where notification servers can read it (they take a path or a themed
/// name, not bytes). Called once at start-up; toasts fall back to the themed name without it.
pub fn prepare_icon<R: Runtime>(app: &AppHandle<R>) {
    let path = app.path().app_cache_dir().ok().and_then(|dir| {
        let path = dir.join("drivewatch.png");
        std::fs::create_dir_all(&dir)
            .and_then(|()| std::fs::write(&path, include_bytes!("../../icons/128x128.png")))
            .map(|()| path)
            .map_err(|e| tracing::warn!(error = %e, "could not write the toast icon"))
            .ok()
    });
    let _ = ICON_PATH.set(path);
}

fn icon() -> String {
    ICON_PATH
        .get()
        .and_then(|p| p.as_ref())
        .map(|p| p.display().to_string())
        // The name the .deb installs the icon under.
        .unwrap_or_else(|| "drivewatch".to_owned())
}

/// Shows one toast without blocking the caller.
pub fn deliver<R: Runtime>(app: &AppHandle<R>, toast: Toast) {
    let app = app.clone();
    tauri::async_runtime::spawn_blocking(move || show(&app, &toast));
}

#[cfg(all(unix, not(target_os = "macos")))]
fn show<R: Runtime>(app: &AppHandle<R>, toast: &Toast) {
    use notify_rust::{Hint, Notification, Timeout};

    let markup = body_markup();
    let body = if markup {
        escape_markup(&toast.body)
    } else {
        toast.body.clone()
    };
    let mut notification = Notification::new();
    notification
        .appname(APP_NAME)
        .summary(&toast.summary)
        .body(&body)
        .icon(&icon())
        .hint(Hint::Category("transfer".to_owned()))
        .hint(Hint::DesktopEntry("drivewatch".to_owned()))
        .timeout(Timeout::Milliseconds(SHOW_FOR_MS));
    if toast.target.is_some() {
        notification
            .action("default", "Show in DriveWatch")
            .action("open", "Open")
            .action("show", "Show in DriveWatch");
    }
    let handle = match notification.show() {
        Ok(handle) => handle,
        Err(e) => {
            tracing::warn!(error = %e, "could not show a toast");
            return;
        }
    };
    let Some(target) = toast.target else {
        return;
    };
    handle.wait_for_action(|action| match action {
        "open" => {
            if let Some(shell) = app.try_state::<crate::shell::Shell>() {
                crate::commands::spawn_open_change(&shell, target.seq, target.folder);
            }
        }
        "default" | "show" => show_in_window(app, target.seq),
        _ => {}
    });
}

#[cfg(not(all(unix, not(target_os = "macos"))))]
fn show<R: Runtime>(app: &AppHandle<R>, toast: &Toast) {
    use notify_rust::Notification;

    // No actions here: Windows needs an AUMID registration and macOS a signed bundle for them.
    let _ = app;
    let result = Notification::new()
        .appname(APP_NAME)
        .summary(&toast.summary)
        .body(&toast.body)
        .icon(&icon())
        .show();
    if let Err(e) = result {
        tracing::warn!(error = %e, "could not show a toast");
    }
}

/// "Show in DriveWatch": bring the window up and point the list at the change.
#[cfg_attr(not(all(unix, not(target_os = "macos"))), allow(dead_code))]
fn show_in_window<R: Runtime>(app: &AppHandle<R>, seq: i64) {
    use tauri_specta::Event;
    crate::window::show(app);
    if let Err(e) = (crate::ipc::FocusChange { seq }).emit(app) {
        tracing::warn!(error = %e, "could not point the window at a change");
    }
}

/// Whether the notification server renders markup in bodies (then `<`, `>`, `&` in names
/// must be escaped, or a file called `<b>x</b>` would be drawn bold). Asked once.
#[cfg(all(unix, not(target_os = "macos")))]
fn body_markup() -> bool {
    static MARKUP: OnceLock<bool> = OnceLock::new();
    *MARKUP.get_or_init(|| {
        notify_rust::get_capabilities()
            .map(|caps| caps.iter().any(|c| c == "body-markup"))
            .unwrap_or(false)
    })
}

#[cfg_attr(not(all(unix, not(target_os = "macos"))), allow(dead_code))]
fn escape_markup(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_names_is_escaped() {
        assert_eq!(
            escape_markup("in /<b>Bold</b> & co"),
            "in /&lt;b&gt;Bold&lt;/b&gt; &amp; co"
        );
    }
}
