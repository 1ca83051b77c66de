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
//! - [`tray`], [`toasts`], [`window_link`]: the three faces of the app; the tray and the toasts
//!   act through the shell. The window runs in a process of its own, started when it is opened
//!   and ended when it is closed: [`window_link`] is the app's side, [`window_process`] the
//!   window's, [`window_protocol`] what they say, and [`window`] builds and shows it.
//! - [`relay`]: engine events to window, tray and toasts.
//! - [`lifecycle`]: start at login.
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
pub mod window;
pub mod window_link;
pub mod window_process;
pub mod window_protocol;
pub mod windows_toast;

use specta_typescript::Typescript;
use tauri::{Manager, Runtime};
use tauri_specta::{collect_commands, collect_events};

use crate::shell::Shell;
pub use crate::startup::{StartError, start_engine};

/// What differs between a real start and a test start.
#[derive(Debug, Clone)]
pub struct Wiring {
    /// Create the tray icon (needs a desktop session).
    pub tray: bool,
    /// The program that is the window; `None` opens no window (the mock-runtime tests).
    pub window: Option<window_link::WindowProgram>,
}

/// The app's configuration and assets, for the app and for its window process.
fn context() -> tauri::Context<tauri::Wry> {
    tauri::generate_context!()
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
    builder
        .plugin(tauri_plugin_opener::init())
        .plugin(
            tauri_plugin_autostart::Builder::new()
                .app_name("DriveWatch")
                .args(lifecycle::AUTOSTART_ARGS.iter().copied())
                .build(),
        )
        .manage(shell)
        .setup(move |app| {
            ipc.mount_events(app);
            // The window's calls, forwarded by its process, are run by the IPC layer.
            let dispatch: window_link::Dispatch<R> = std::sync::Arc::new(commands::dispatch::<R>);
            window_link::attach(app.handle(), wiring.window.clone(), dispatch);
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
            window_link::apply_start(app.handle());
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
            window_link::open(app);
        }));
    let window = match window_link::WindowProgram::this_binary() {
        Ok(program) => Some(program),
        Err(e) => {
            tracing::warn!(error = %e, "the window cannot open: this program's path is unknown");
            None
        }
    };
    let wiring = Wiring { tray: true, window };
    let app = wire(builder, shell, wiring).build(context())?;
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

/// Runs the window process (`drivewatch --window`) until its window closes.
pub fn run_window() -> Result<(), tauri::Error> {
    window_process::run(context())
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
