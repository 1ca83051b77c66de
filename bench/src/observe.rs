//! Watches an in-process engine's events and runs the toast policy on every batch, noting when
//! each change's toast was decided.
//!
//! This is what a host does with a batch (hand it to `ToastPolicy::decide`), timed. It must
//! never change what the engine reports, and it keeps only the names the benchmark wrote (by
//! prefix), so the user's own files never end up in a report.

use std::collections::HashMap;

use chrono::Utc;
use drivewatch_core::model::{EngineEvent, Preferences};
use drivewatch_core::toast_policy::{ToastContext, ToastPolicy};
use tokio::sync::broadcast::Receiver;
use tokio::sync::broadcast::error::RecvError;
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
    /// Toasts the policy asked for.
    pub toasts: usize,
    /// Changes the policy held back for a later summary, when the observer stopped.
    pub held_back: usize,
    /// A summary toast the policy gives once its window has room again (`flush` a window later).
    pub deferred_summaries: usize,
    /// Events lost because the observer lagged behind the broadcast.
    pub lagged: u64,
}

/// Observes until `expected` changes named `prefix*` were decided, or `cancel`.
pub async fn decisions(
    mut events: Receiver<EngineEvent>,
    prefix: &'static str,
    expected: usize,
    cancel: CancellationToken,
) -> Decisions {
    let preferences = Preferences::default();
    let mut policy = ToastPolicy::default();
    let mut out = Decisions::default();
    while out.decided.len() < expected {
        let event = tokio::select! {
            _ = cancel.cancelled() => break,
            e = events.recv() => e,
        };
        match event {
            Ok(EngineEvent::Changes { batch }) => {
                let now = Utc::now();
                let ctx = ToastContext {
                    preferences: &preferences,
                    paused_until: None,
                    now,
                    local_time: now.time(),
                };
                let toasts = policy.decide(&batch, &ctx);
                let at = Instant::now();
                out.toasts += toasts.len();
                out.batches += 1;
                for change in batch.changes {
                    if change.name.starts_with(prefix) {
                        out.decided.entry(change.name).or_insert(at);
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
    // The host's flush timer, one full window later: the policy is pure, so the time is given.
    let later = Utc::now() + policy.limits().window;
    let ctx = ToastContext {
        preferences: &preferences,
        paused_until: None,
        now: later,
        local_time: later.time(),
    };
    out.deferred_summaries = usize::from(policy.flush(&ctx).is_some());
    out
}
