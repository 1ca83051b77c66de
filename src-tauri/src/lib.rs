//! DriveWatch for the desktop: a thin Tauri shell over drivewatch-core.
//!
//! This file only wires the builder: plugins, state, commands, events, window, tray and the
//! engine relay. Everything with behaviour lives in its own module, and nothing here decides
//! what deserves a toast or talks to Graph: the engine and core's toast policy do.
//!
//! # Layout
//! - [`engine`]: the [`engine::EngineLink`] trait, what the shell needs from the engine;
//!   `core_link` implements it over drivewatch-core, `startup` starts it (real or `--demo`).
//! - [`shell`]: the shell's own state (pause, sign-in prompt, latest changes, toast memory).
//! - [`ipc`] and [`commands`]: the typed IPC contract with the web UI.
//! - [`tray`], [`toasts`], [`window`]: the three faces of the app.
//! - [`relay`]: engine events to window, tray and toasts.
//! - [`lifecycle`]: Quit (cancel, bounded wait, exit 0) and start at login.
//! - [`windows_toast`], [`shortcut`]: toasts on Windows and the Start-menu shortcut they need.

pub mod commands;
mod core_link;
pub mod engine;
pub mod error;
pub mod ipc;
pub mod lifecycle;
pub mod relay;
pub mod shell;
pub mod shortcut;
mod startup;
pub mod surface;
pub mod toasts;
pub mod tray;
pub mod window;
pub mod windows_toast;

use tauri::{Manager, Runtime};

use crate::shell::Shell;
pub use crate::startup::{StartError, start_engine};

/// What differs between a real start and a test start.
#[derive(Debug, Clone, Copy)]
pub struct Wiring {
    /// Create the tray icon (needs a desktop session).
    pub tray: bool,
}

/// Adds DriveWatch's plugins, state, commands, events and set-up to any Tauri builder.
///
/// Generic over the runtime so a `tauri::test::mock_builder()` can start the same app.
pub fn wire<R: Runtime>(
    builder: tauri::Builder<R>,
    shell: Shell,
    wiring: Wiring,
) -> tauri::Builder<R> {
    let ipc = ipc::specta_builder::<R>();
    let handler = ipc.invoke_handler();
    builder
        .plugin(tauri_plugin_opener::init())
        .plugin(
            tauri_plugin_autostart::Builder::new()
                .app_name("DriveWatch")
                .args(lifecycle::AUTOSTART_ARGS.iter().copied())
                .build(),
        )
        .manage(shell)
        .invoke_handler(handler)
        .setup(move |app| {
            ipc.mount_events(app);
            toasts::prepare_icon(app.handle());
            relay::start(app.handle());
            app.state::<Shell>().attach(Box::new(surface::AppSurface {
                app: app.handle().clone(),
                tray: wiring.tray,
            }));
            if wiring.tray {
                let shell = app.state::<Shell>();
                tray::create(app.handle(), &shell)?;
            }
            window::apply_start(app.handle());
            Ok(())
        })
}

/// Runs the desktop app until Quit. A second launch focuses the running window instead.
pub fn run(shell: Shell) -> Result<(), tauri::Error> {
    // Windows shows toasts under DriveWatch's name only with its AppUserModelID on a shortcut.
    #[cfg(windows)]
    shortcut::ensure();
    let builder = tauri::Builder::default()
        // Must be the first plugin, so a second instance exits before doing anything.
        .plugin(tauri_plugin_single_instance::init(|app, _args, _cwd| {
            window::show(app);
        }));
    let app = wire(builder, shell, Wiring { tray: true }).build(tauri::generate_context!())?;
    app.run(|_app, event| {
        // The window hides instead of closing, so only Quit (exit code 0) ends the app; an
        // exit request without a code (all windows gone) must not.
        if let tauri::RunEvent::ExitRequested {
            code: None, api, ..
        } = event
        {
            api.prevent_exit();
        }
    });
    Ok(())
}
