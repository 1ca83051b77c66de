//! The CLI's commands over drivewatch-core, one module per family: [`account`] (login, logout,
//! accounts, status), [`targets`], [`history`] and [`watch`].
//!
//! `watch` runs the engine. The short commands call the core's [`Workspace`] directly (the same
//! use-cases the engine delegates to) and never start watching: a catch-up that a short command
//! consumed would be lost to the next `watch`. Their workspace saves only what a command changes
//! into the settings file as it is on disk, so values that came from flags or the environment
//! are never written back.

pub mod account;
pub mod history;
pub mod targets;
pub mod watch;

use drivewatch_core::workspace::{SaveSettings, Workspace};

use crate::Context;

pub use account::{accounts, login, logout, status};
pub use history::{HistoryArgs, history};
pub use targets::{AddTarget, targets_add, targets_list, targets_remove};
pub use watch::{watch, watch_loop};

/// The settings, accounts and history of this run, for a short command.
fn workspace(ctx: &Context) -> Workspace {
    Workspace::open(
        ctx.config.clone(),
        ctx.paths.clone(),
        SaveSettings::ChangesOnly,
    )
}

/// Ctrl-C or SIGTERM.
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
