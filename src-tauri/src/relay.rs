//! Carries the engine's events to the window, the tray and the toasts.
//!
//! One task reads the engine's broadcast: every batch goes to the window's list and the tray
//! menu, and through the toast policy to the desktop; status and account changes redraw the
//! window and tray. A timer, armed only while the policy has something waiting (a redraw of a
//! toast on screen, changes its rate cap held back), lets it deliver those; an idle app has no
//! timer at all. The task ends on the shell's cancellation token; it must never decide what deserves a toast
//! (that is core's toast policy) or block on delivery.

use std::time::Duration;

use chrono::Utc;

use drivewatch_core::model::EngineEvent;
use tauri::{AppHandle, Manager, Runtime};
use tauri_specta::Event;
use tokio::sync::broadcast::error::RecvError;

use crate::ipc::{ChangesAdded, TargetStatusChanged};
use crate::shell::Shell;

/// Shortest sleep before a flush: a wall clock set back cannot turn the timer into a spin.
const FLUSH_AT_LEAST_AFTER: Duration = Duration::from_millis(20);

/// Starts the relay task; it runs until the shell is cancelled or the engine goes away.
pub fn start<R: Runtime>(app: &AppHandle<R>) {
    let Some(shell) = app.try_state::<Shell>() else {
        return;
    };
    let mut events = shell.engine().subscribe();
    let cancel = shell.cancel.clone();
    let app = app.clone();
    shell.spawn(async move {
        loop {
            let flush_in = app
                .try_state::<Shell>()
                .and_then(|s| s.next_toast_flush())
                .map(|at| {
                    (at - Utc::now())
                        .to_std()
                        .unwrap_or_default()
                        .max(FLUSH_AT_LEAST_AFTER)
                });
            let flush = async {
                match flush_in {
                    Some(wait) => tokio::time::sleep(wait).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                () = cancel.cancelled() => break,
                () = flush => {
                    if let Some(shell) = app.try_state::<Shell>() {
                        for toast in shell.flush_toasts() {
                            crate::toasts::deliver(&app, toast);
                        }
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
