//! Carries the engine's events to the window, the tray and the toasts.
//!
//! One task reads the engine's broadcast: every batch goes to the window's list and the tray
//! menu, and through the toast policy to the desktop; status and account changes redraw the
//! window and tray. A timer lets the policy tell about changes its rate cap held back. The
//! task ends on the shell's cancellation token; it must never decide what deserves a toast
//! (that is core's toast policy) or block on delivery.

use std::time::Duration;

use drivewatch_core::model::EngineEvent;
use tauri::{AppHandle, Manager, Runtime};
use tauri_specta::Event;
use tokio::sync::broadcast::error::RecvError;

use crate::ipc::{ChangesAdded, TargetStatusChanged};
use crate::shell::Shell;

/// How often held-back changes are checked for a summary toast.
const FLUSH_EVERY: Duration = Duration::from_secs(5);

/// Starts the relay task; it runs until the shell is cancelled or the engine goes away.
pub fn start<R: Runtime>(app: &AppHandle<R>) {
    let Some(shell) = app.try_state::<Shell>() else {
        return;
    };
    let mut events = shell.engine().subscribe();
    let cancel = shell.cancel.clone();
    let app = app.clone();
    shell.spawn(async move {
        let mut flush = tokio::time::interval(FLUSH_EVERY);
        flush.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = cancel.cancelled() => break,
                _ = flush.tick() => {
                    if let Some(toast) = app.try_state::<Shell>().and_then(|s| s.flush_toasts()) {
                        crate::toasts::deliver(&app, toast);
                    }
                }
                event = events.recv() => match event {
                    Ok(event) => handle(&app, event),
                    Err(RecvError::Lagged(missed)) => {
                        tracing::warn!(missed, "the window missed engine events; it reloads the list");
                        if let Some(shell) = app.try_state::<Shell>() {
                            shell.announce();
                        }
                    }
                    Err(RecvError::Closed) => break,
                },
            }
        }
    });
}

fn handle<R: Runtime>(app: &AppHandle<R>, event: EngineEvent) {
    let Some(shell) = app.try_state::<Shell>() else {
        return;
    };
    match event {
        EngineEvent::Changes { batch } => {
            let toasts = shell.take_batch(&batch);
            if let Err(e) = ChangesAdded(batch).emit(app) {
                tracing::warn!(error = %e, "could not send changes to the window");
            }
            for toast in toasts {
                crate::toasts::deliver(app, toast);
            }
            shell.tray_changed();
        }
        EngineEvent::Status { target } => {
            if let Err(e) = TargetStatusChanged(target).emit(app) {
                tracing::warn!(error = %e, "could not send a status to the window");
            }
            shell.tray_changed();
        }
        EngineEvent::AccountChanged { .. } => {
            shell.announce();
        }
    }
}
