//! Carries the engine's events to the window, the tray and the toasts.
//!
//! One task reads the engine's broadcast: every batch goes to the window's list and the tray
//! menu, and through the toast policy to the desktop; status and account changes redraw the
//! window and tray. A batch that deserves attention raises the unread count, which the window
//! and the tray then show. Three timers, each armed only while it has something to wait for,
//! complete it: the policy's flush (a redraw of a toast on screen, changes its rate cap held
//! back), the daily digest (only while a rule is in digest mode) and the end of the next timed
//! mute (the tray drops it); an idle app without digests or timed mutes has no timer at all.
//! The shell wakes the task when the preferences change, so the timers follow at once. The task
//! ends on the shell's cancellation token; it must never decide what deserves a toast (that is
//! core's toast policy) or block on delivery: a digest is gathered by a task of its own.

use std::time::Duration;

use chrono::{DateTime, Utc};

use drivewatch_core::model::EngineEvent;
use tauri::{AppHandle, Manager, Runtime};
use tauri_specta::Event;
use tokio::sync::broadcast::error::RecvError;

use crate::ipc::{ChangesAdded, TargetStatusChanged};
use crate::shell::Shell;

/// Shortest sleep before a flush: a wall clock set back cannot turn the timer into a spin.
const FLUSH_AT_LEAST_AFTER: Duration = Duration::from_millis(20);

/// Sleeps until `at` (at least [`FLUSH_AT_LEAST_AFTER`]), or for ever when there is no `at`.
async fn sleep_until(at: Option<DateTime<Utc>>) {
    match at {
        Some(at) => {
            let wait = (at - Utc::now())
                .to_std()
                .unwrap_or_default()
                .max(FLUSH_AT_LEAST_AFTER);
            tokio::time::sleep(wait).await;
        }
        None => std::future::pending().await,
    }
}

/// Starts the relay task; it runs until the shell is cancelled or the engine goes away.
pub fn start<R: Runtime>(app: &AppHandle<R>) {
    let Some(shell) = app.try_state::<Shell>() else {
        return;
    };
    let mut events = shell.engine().subscribe();
    let cancel = shell.cancel.clone();
    let timers = shell.timers();
    let app = app.clone();
    shell.spawn(async move {
        // The next digest, read again when the preferences change or after it was given, and
        // given at the top of the loop once the wall clock reached it: so it comes once, even
        // when the timer fires a moment early by the wall clock or late after a suspend.
        let mut digest_due: Option<DateTime<Utc>> = None;
        let mut digest_known = false;
        let mut last_digest: Option<DateTime<Utc>> = None;
        while let Some(shell) = app.try_state::<Shell>() {
            let now = Utc::now();
            if !digest_known {
                let after = last_digest.map_or(now, |last| last.max(now));
                digest_due = shell.next_digest_after(after);
                digest_known = true;
            }
            if let Some(due) = digest_due.filter(|due| *due <= now) {
                last_digest = Some(due);
                digest_known = false;
                deliver_digest(&app, due);
                continue;
            }
            let flush_at = shell.next_toast_flush();
            let mute_ends = shell.next_mute_expiry();
            tokio::select! {
                () = cancel.cancelled() => break,
                () = timers.notified() => digest_known = false,
                () = sleep_until(mute_ends) => shell.tray_changed(),
                () = sleep_until(digest_due) => {}
                () = sleep_until(flush_at) => {
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

/// Gathers the digest due at `until` in a tracked task of its own (it reads the history) and
/// shows its toasts.
fn deliver_digest<R: Runtime>(app: &AppHandle<R>, until: DateTime<Utc>) {
    let Some(shell) = app.try_state::<Shell>() else {
        return;
    };
    let shell = shell.inner().clone();
    let app = app.clone();
    shell.clone().spawn(async move {
        let toasts = tokio::select! {
            () = shell.cancel.cancelled() => return,
            toasts = shell.digest(until) => toasts,
        };
        match toasts {
            Ok(toasts) => {
                for toast in toasts {
                    crate::toasts::deliver(&app, toast);
                }
            }
            Err(e) => tracing::warn!(error = %e, "could not gather the digest"),
        }
    });
}

fn handle<R: Runtime>(app: &AppHandle<R>, event: EngineEvent) {
    let Some(shell) = app.try_state::<Shell>() else {
        return;
    };
    match event {
        EngineEvent::Changes { batch } => {
            let unread = shell.unread();
            let toasts = shell.take_batch(&batch);
            if let Err(e) = ChangesAdded(batch).emit(app) {
                tracing::warn!(error = %e, "could not send changes to the window");
            }
            for toast in toasts {
                crate::toasts::deliver(app, toast);
            }
            if shell.unread() != unread {
                // The window shows the count too; announcing redraws the tray as well.
                shell.announce();
            } else {
                shell.tray_changed();
            }
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
