//! Watches an in-process engine's events and runs the toast policy on every batch, noting when
//! each change's toast was decided.
//!
//! This is what a host does with a batch (hand it to `ToastPolicy::decide`, and call `flush`
//! when the policy says something waits), timed. It must never change what the engine reports,
//! and it keeps only the names the benchmark wrote (by prefix), so the user's own files never
//! end up in a report.

use std::collections::HashMap;

use chrono::Utc;
use drivewatch_core::model::{EngineEvent, Preferences};
use drivewatch_core::toast_policy::{Toast, ToastContext, ToastPolicy};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::broadcast::{self, Receiver};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// What one engine's host saw.
#[derive(Debug, Default)]
pub struct Decisions {
    /// When the toast policy had decided the change of this name (first time seen).
    pub decided: HashMap<String, Instant>,
    /// After each batch: when, and how many benchmark changes had been decided so far.
    pub progress: Vec<(Instant, usize)>,
    pub batches: usize,
    /// New toasts the policy asked for while observing (from `decide` and timely `flush`es).
    pub toasts: usize,
    /// Redraws of toasts already shown (same id, replaced in place); not new toasts.
    pub updates: usize,
    /// Changes the policy held back for a later summary, when the observer stopped.
    pub held_back: usize,
    /// New toasts the policy still gives after the observer stopped (a held-back summary, up to
    /// a window later), flushed at the times the policy names.
    pub deferred_toasts: usize,
    /// Redraws still owed when the observer stopped (the last count of a burst).
    pub deferred_updates: usize,
    /// Events lost because the observer lagged behind the broadcast.
    pub lagged: u64,
}

impl Decisions {
    fn count(&mut self, toasts: &[Toast], deferred: bool) {
        let updates = toasts.iter().filter(|t| t.is_update()).count();
        let new = toasts.len() - updates;
        if deferred {
            self.deferred_toasts += new;
            self.deferred_updates += updates;
        } else {
            self.toasts += new;
            self.updates += updates;
        }
    }
}

fn context(preferences: &Preferences, now: chrono::DateTime<Utc>) -> ToastContext<'_> {
    ToastContext {
        preferences,
        paused_until: None,
        now,
        local_time: now.time(),
    }
}

/// Observes until `expected` changes named `prefix*` were decided, or `cancel`.
pub async fn decisions(
    events: Receiver<EngineEvent>,
    prefix: &'static str,
    expected: usize,
    cancel: CancellationToken,
) -> Decisions {
    decisions_telling(events, prefix, expected, cancel, None).await
}

/// [`decisions`], also telling `tell` each name the moment its decision was taken, for a
/// driver that waits for one change before making the next.
pub async fn decisions_telling(
    mut events: Receiver<EngineEvent>,
    prefix: &'static str,
    expected: usize,
    cancel: CancellationToken,
    tell: Option<broadcast::Sender<String>>,
) -> Decisions {
    let preferences = Preferences::default();
    let mut policy = ToastPolicy::default();
    let mut out = Decisions::default();
    while out.decided.len() < expected {
        // The host's flush timer, armed only while the policy has something waiting.
        let flush_in = policy
            .next_flush_at()
            .map(|at| (at - Utc::now()).to_std().unwrap_or_default());
        let flush = async {
            match flush_in {
                Some(d) => tokio::time::sleep(d).await,
                None => std::future::pending().await,
            }
        };
        let event = tokio::select! {
            _ = cancel.cancelled() => break,
            () = flush => {
                let toasts = policy.flush(&context(&preferences, Utc::now()));
                out.count(&toasts, false);
                continue;
            }
            e = events.recv() => e,
        };
        match event {
            Ok(EngineEvent::Changes { batch }) => {
                let toasts = policy.decide(&batch, &context(&preferences, Utc::now()));
                let at = Instant::now();
                out.count(&toasts, false);
                out.batches += 1;
                for change in batch.changes {
                    if change.name.starts_with(prefix) && !out.decided.contains_key(&change.name) {
                        if let Some(tell) = &tell {
                            let _ = tell.send(change.name.clone());
                        }
                        out.decided.insert(change.name, at);
                    }
                }
                out.progress.push((at, out.decided.len()));
            }
            Ok(_) => {}
            Err(RecvError::Lagged(n)) => out.lagged += n,
            Err(RecvError::Closed) => break,
        }
    }
    out.held_back = policy.held_back();
    // What the host's timer would still show: the policy is pure, so the times are given.
    let mut now = Utc::now();
    for _ in 0..100 {
        let Some(at) = policy.next_flush_at() else {
            break;
        };
        now = now.max(at);
        let toasts = policy.flush(&context(&preferences, now));
        out.count(&toasts, true);
    }
    out
}
