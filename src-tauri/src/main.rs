//! The `drivewatch` binary: parses the command line, sets up logging, starts the desktop app.
//!
//! It must never hold logic beyond choosing the engine (real or `--demo`); anyhow stays here.

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use std::path::PathBuf;

use clap::{CommandFactory, Parser};

/// DriveWatch: desktop notifications for OneDrive and SharePoint changes.
#[derive(Debug, Parser)]
#[command(name = "drivewatch", version)]
struct Args {
    /// Run against a built-in emulator with scripted activity; needs no Microsoft account.
    /// Changes are notified 5-40 s late, as by Microsoft; DRIVEWATCH_DEMO_PUSH=instant delivers
    /// at once (for scripted tests and quick looks).
    #[arg(long)]
    demo: bool,
    /// Start in the tray with the window closed.
    #[arg(long)]
    hidden: bool,
    // The packages' man page comes from a hidden flag of the binary itself rather than from a
    // generator elsewhere: these `Args` are the one definition of the command line, and the
    // release binary is at hand when `cargo xtask bundle` runs. It returns before logging, the
    // engine or a window start, so it works without a display.
    /// Write the man page (drivewatch.1) into DIR and exit.
    #[arg(long, hide = true, value_name = "DIR")]
    manpages: Option<PathBuf>,
    // The window runs as a process of its own that the running app starts when the user opens
    // it, and that talks only to that app (over its standard input and output).
    /// Run the window of the DriveWatch that started this process (internal).
    #[arg(long, hide = true)]
    window: bool,
    /// Remove the Start-menu shortcut DriveWatch writes on Windows, then exit.
    #[arg(long)]
    uninstall_shortcut: bool,
}

fn main() -> anyhow::Result<()> {
    // Before anything can start a thread: these change the process's environment and malloc.
    drivewatch_desktop::window::prepare_process_environment();
    drivewatch_core::process::limit_malloc_arenas();
    let args = Args::parse();
    if let Some(dir) = &args.manpages {
        clap_mangen::generate_to(Args::command(), dir)?;
        return Ok(());
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("DRIVEWATCH_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    if args.window {
        drivewatch_desktop::run_window()?;
        return Ok(());
    }
    if args.uninstall_shortcut {
        eprintln!("{}", drivewatch_desktop::shortcut::uninstall()?);
        return Ok(());
    }
    if args.hidden {
        drivewatch_desktop::window_link::start_hidden();
    }
    let shell = drivewatch_desktop::start_engine(args.demo)?;
    drivewatch_desktop::run(shell)?;
    Ok(())
}
