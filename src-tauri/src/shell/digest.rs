//! The daily digest on the shell's side: when the next one is due, and the toasts it gives,
//! from the history's changes of the span it covers.
//!
//! Core decides everything a digest says (`toast_policy::digest`); this module only reads the
//! preferences and the history for it. The relay owns the timer and delivers the toasts, so
//! an app without a rule in digest mode has no digest timer at all. Nothing here may hold the
//! shell's lock across the history's await, or fetch an unbounded number of pages.

use chrono::{DateTime, Local, Utc};
use drivewatch_core::model::HistoryQuery;
use drivewatch_core::toast_policy::digest::{digest_span, digest_toasts_labelled, next_digest_at};
use drivewatch_core::toast_policy::{Toast, ToastContext};

use super::Shell;
use crate::error::ShellError;

/// Changes per history page while gathering a digest.
const PAGE: u32 = 500;
/// Enough for a very busy day (100 000 changes); a digest never reads the history without end.
const MAX_PAGES: usize = 200;

impl Shell {
    /// When the next digest is due strictly after `after` (local `digest_at`); `None` while no
    /// rule is in digest mode.
    pub fn next_digest_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        next_digest_at(&self.engine.preferences(), after.with_timezone(&Local))
    }

    /// The digest toasts due at `at`: one per rule in digest mode that governs changes of the
    /// 24 hours before it, a whole target's named by its label.
    pub async fn digest(&self, at: DateTime<Utc>) -> Result<Vec<Toast>, ShellError> {
        let (since, until) = digest_span(at);
        let mut changes = Vec::new();
        let mut before = None;
        for _ in 0..MAX_PAGES {
            let page = self
                .engine
                .history(HistoryQuery {
                    before,
                    since: Some(since),
                    until: Some(until),
                    limit: PAGE,
                    ..HistoryQuery::default()
                })
                .await?;
            changes.extend(page.changes);
            match page.next_before {
                Some(next) => before = Some(next),
                None => break,
            }
        }
        let preferences = self.engine.preferences();
        let now = Local::now();
        let ctx = ToastContext {
            preferences: &preferences,
            paused_until: self.paused_until(),
            now: now.with_timezone(&Utc),
            local_time: now.time(),
        };
        let targets = self.engine.targets();
        let label = |id: &str| targets.iter().find(|t| t.id == id).map(|t| t.label.clone());
        Ok(digest_toasts_labelled(&changes, &ctx, since, until, label))
    }
}
