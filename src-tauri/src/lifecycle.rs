//! Starting at login: the autostart entry that launches DriveWatch in the tray.
//!
//! The shell asks for it through its surface when the preference changes; Quit, the other end
//! of the app's life, is the shell's own action (`Shell::quit`). This module must never start
//! the app with a window nobody asked for, nor with `--demo`.

use tauri::{AppHandle, Runtime};

use crate::error::ShellError;

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
