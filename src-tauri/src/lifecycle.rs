//! Quitting cleanly and starting at login.
//!
//! Quit cancels every task, lets the engine stop its watches and close the history, waits for
//! the tracked tasks for at most [`QUIT_GRACE`], then exits with code 0. It must never hang:
//! whatever has not finished by then is abandoned, since the history commits per delta run.

use std::time::Duration;

use tauri::{AppHandle, Manager, Runtime};

use crate::error::ShellError;
use crate::shell::Shell;

/// How long Quit waits for the engine and the shell's tasks before exiting anyway.
pub const QUIT_GRACE: Duration = Duration::from_millis(1000);

/// The tray's Quit: cancel, wait (bounded), exit 0.
pub fn quit<R: Runtime>(app: &AppHandle<R>) {
    let Some(shell) = app.try_state::<Shell>() else {
        app.exit(0);
        return;
    };
    tracing::info!("quitting");
    shell.cancel.cancel();
    shell.tasks.close();
    let engine = shell.engine().clone();
    let tasks = shell.tasks.clone();
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        let stopped = tokio::time::timeout(QUIT_GRACE, async {
            engine.shutdown().await;
            tasks.wait().await;
        })
        .await;
        if stopped.is_err() {
            tracing::warn!(grace = ?QUIT_GRACE, "tasks still running at quit; exiting anyway");
        }
        app.exit(0);
    });
}

/// What start-at-login runs DriveWatch with: straight to the tray, the window closed (a login
/// should not open a window nobody asked for; the tray's Show opens it).
pub const AUTOSTART_ARGS: &[&str] = &["--hidden"];

/// Turns start-at-login on or off through the autostart plugin.
pub fn apply_autostart<R: Runtime>(app: &AppHandle<R>, enabled: bool) -> Result<(), ShellError> {
    use tauri_plugin_autostart::ManagerExt;
    let launcher = app.autolaunch();
    let result = if enabled {
        // The plugin writes `$HOME/.config/autostart/DriveWatch.desktop` but creates only the
        // last folder: on an account without `~/.config` yet, turning it on would fail.
        #[cfg(target_os = "linux")]
        if let Some(home) = std::env::var_os("HOME") {
            let dir = std::path::Path::new(&home)
                .join(".config")
                .join("autostart");
            std::fs::create_dir_all(&dir).map_err(|e| ShellError::Autostart(e.to_string()))?;
        }
        launcher.enable()
    } else {
        launcher.disable()
    };
    result.map_err(|e| ShellError::Autostart(e.to_string()))
}
