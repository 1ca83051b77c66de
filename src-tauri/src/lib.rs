//! DriveWatch for the desktop: a thin Tauri shell over drivewatch-core.
//!
//! This file only wires the builder: plugins, state, the IPC registration (commands and
//! events), window, tray and the engine relay. Everything with behaviour lives in its own
//! module, and nothing here decides what deserves a toast or talks to Graph: the engine and
//! core's toast policy do.
//!
//! # Layout
//! - [`engine`]: the [`engine::EngineLink`] trait, what the shell needs from the engine;
//!   `core_link` implements it over drivewatch-core, `startup` starts it (real or `--demo`).
//! - [`shell`]: the shell's own state (pause, sign-in prompt, latest changes, toast memory)
//!   and every action (sign-in, targets, preferences, pause, opening a change, Quit); it
//!   reaches the desktop only through its [`shell::Surface`], which [`surface`] implements.
//! - [`ipc`]: the data and events of the IPC contract with the web UI.
//! - [`commands`]: the IPC registration layer, thin calls into the shell; registered by
//!   [`specta_builder`] here, and used by nothing else.
//! - [`tray`], [`toasts`], [`window`]: the three faces of the app; the tray and the toasts act
//!   through the shell.
//! - [`relay`]: engine events to window, tray and toasts.
//! - [`lifecycle`]: start at login.
//! - `webkit_idle` (Linux): what WebKit keeps after the window closed, released.
//! - [`windows_toast`], [`shortcut`]: toasts on Windows and the Start-menu shortcut they need.
//!
//! Dependencies point one way: the faces, the relay and the IPC layer depend on the shell, and
//! the shell on the engine link, the errors and the IPC data only.

pub mod commands;
mod core_link;
pub mod engine;
pub mod error;
#[cfg(all(unix, not(target_os = "macos")))]
mod freedesktop;
pub mod ipc;
pub mod lifecycle;
pub mod relay;
pub mod shell;
pub mod shortcut;
mod startup;
pub mod surface;
pub mod toasts;
pub mod tray;
#[cfg(all(unix, not(target_os = "macos")))]
mod webkit_idle;
pub mod window;
pub mod windows_toast;

use specta_typescript::Typescript;
use tauri::{Manager, Runtime};
use tauri_specta::{collect_commands, collect_events};

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
    let ipc = specta_builder::<R>();
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
        .on_window_event(window::on_event)
        .setup(move |app| {
            ipc.mount_events(app);
            toasts::prepare_icon(app.handle());
            relay::start(app.handle());
            app.state::<Shell>().attach(Box::new(surface::AppSurface {
                app: app.handle().clone(),
                tray: wiring.tray,
                redraw_queued: Default::default(),
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
            // The callback runs on a worker of zbus's runtime: building the window there would
            // hold that worker until the main thread has built it, while building it needs
            // zbus (the colour scheme), which deadlocks. The main thread builds it instead.
            let handle = app.clone();
            if let Err(e) = app.run_on_main_thread(move || window::show(&handle)) {
                tracing::warn!(error = %e, "could not open the main window");
            }
        }));
    let app = wire(builder, shell, Wiring { tray: true }).build(tauri::generate_context!())?;
    app.run(|_app, event| {
        // Only Quit (exit code 0) ends the app; the exit request without a code that closing
        // the last window makes must not.
        if let tauri::RunEvent::ExitRequested {
            code: None, api, ..
        } = event
        {
            api.prevent_exit();
        }
    });
    Ok(())
}

/// The IPC registration: the one list of commands and events, for the invoke handler and for
/// the bindings.
pub fn specta_builder<R: Runtime>() -> tauri_specta::Builder<R> {
    tauri_specta::Builder::<R>::new()
        .commands(collect_commands![
            commands::get_snapshot,
            commands::start_sign_in,
            commands::cancel_sign_in,
            commands::sign_out,
            commands::list_changes,
            commands::add_target,
            commands::remove_target,
            commands::save_preferences,
            commands::set_pause,
            commands::open_change,
            commands::open_verification_page,
            commands::set_client_id,
            commands::mute_folder,
            commands::unmute,
            commands::mark_seen,
        ])
        .events(collect_events![
            ipc::ChangesAdded,
            ipc::TargetStatusChanged,
            ipc::SignInProgress,
            ipc::SnapshotChanged,
            ipc::FocusChange,
            ipc::FocusDigest
        ])
        .dangerously_cast_bigints_to_number()
        // One TypeScript type per Rust type, not separate input and output shapes.
        .disable_serde_phases()
}

/// Put above the generated code: where it comes from, and the `Result` type the UI names in
/// its own signatures (the generated commands return exactly this shape).
const HEADER: &str =
    "// Generated from src-tauri/src/ipc.rs by DriveWatch's bindings test. Do not edit.
export type Result<T, E> = { status: \"ok\"; data: T } | { status: \"error\"; error: E };
";

/// The TypeScript exporter settings `ui/src/bindings.ts` is written with.
fn typescript() -> Typescript {
    Typescript::default().header(HEADER)
}

/// Renders the bindings to a string, as they are committed.
pub fn render_bindings<R: Runtime>(builder: &tauri_specta::Builder<R>) -> Result<String, String> {
    // A folder of its own per call: tests render side by side in one process.
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let path = dir.path().join("bindings.ts");
    builder
        .export(typescript(), &path)
        .map_err(|e| e.to_string())?;
    std::fs::read_to_string(&path).map_err(|e| e.to_string())
}
